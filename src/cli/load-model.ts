/**
 * The one way a command that runs a model gets it: which network (`--model` preset or `--variant`
 * with `--padding`/`--bn-eps`), which weights (`--weights FILE` of any format, read by range, or
 * `--random-weights`), checked for usage errors before anything is read, then built by
 * `EfficientNet.create`. The request is plain data, so the serve command can hand it to its
 * model thread as it is.
 */
import { createHash } from 'node:crypto';
import { weightsDownloadHint } from '../arch/preset-download.js';
import { findPreset } from '../arch/presets.js';
import type { CheckpointChoice } from '../arch/checkpoint.js';
import type { VariantName } from '../arch/variants.js';
import { EfficientNet, type Backend } from '../efficientnet.js';
import { createSyntheticWeights } from '../weights/synthetic.js';
import { UsageError } from './args.js';
import type { EngineChoice } from './engine-options.js';
import { withFileSource } from './file-source.js';
import { fileSha256 } from './files.js';
import { MODEL_OPTIONS, modelChoice } from './model-options.js';

export const LOAD_MODEL_OPTIONS = {
  ...MODEL_OPTIONS,
  'random-weights': { type: 'boolean', default: false },
} as const;

/** The usage line's words for these options. */
export const LOAD_MODEL_USAGE = '(--model M | --variant V [--padding same|symmetric] [--bn-eps E]) (--weights FILE | --random-weights)';

export interface ModelRequest {
  readonly choice: CheckpointChoice & { readonly variant?: VariantName };
  /** The weights file, or null for synthetic weights. */
  readonly weightsPath: string | null;
  /** The preset name, or the variant with any padding and eps given: what outputs record as `model`. */
  readonly label: string;
}

/** The parsed values of LOAD_MODEL_OPTIONS. */
export type LoadValues = {
  variant?: string; model?: string; weights?: string; 'random-weights'?: boolean; padding?: string; 'bn-eps'?: string;
};

/** Checks the options' combination; reads nothing. */
export function modelRequest(values: LoadValues): ModelRequest {
  const choice = modelChoice(values) as ModelRequest['choice'];
  const preset = choice.model === undefined ? null : findPreset(choice.model);
  if (values.weights === undefined && !values['random-weights']) {
    const where = preset === null ? 'a weights file for it' : weightsDownloadHint(preset);
    throw new UsageError(`--weights is required: download ${where}, or pass --random-weights to try the tool with synthetic weights`);
  }
  if (values.weights !== undefined && values['random-weights']) throw new UsageError('give --weights or --random-weights, not both');
  const overrides = [
    ...(choice.padding === undefined ? [] : [`padding ${choice.padding}`]),
    ...(choice.bnEps === undefined ? [] : [`bn-eps ${choice.bnEps}`]),
  ];
  const name = preset?.name ?? choice.variant!;
  return {
    choice: preset === null ? choice : { ...choice, model: preset.name },
    weightsPath: values.weights ?? null,
    label: overrides.length === 0 ? name : `${name} (${overrides.join(', ')})`,
  };
}

/**
 * The model a request names. A weights file is read by range (any format), so it is never held
 * whole besides the core's copy.
 */
export async function loadModel(request: ModelRequest, options: LoadOptions): Promise<EfficientNet> {
  return (await load(request, options, false)).net;
}

/**
 * The model and the SHA-256 of its weights (what a manifest or `/v1/model` names them by): a
 * file is hashed as a stream, synthetic weights as the bytes made for the model.
 */
export async function loadModelWithDigest(request: ModelRequest, options: LoadOptions): Promise<{ net: EfficientNet; weightsSha256: string }> {
  const { net, weightsSha256 } = await load(request, options, true);
  return { net, weightsSha256: weightsSha256! };
}

type LoadOptions = EngineChoice & { readonly testSize?: boolean; readonly labels?: readonly string[]; readonly backend?: Backend };

async function load(request: ModelRequest, options: LoadOptions, digest: boolean): Promise<{ net: EfficientNet; weightsSha256?: string }> {
  const create = (weights: Parameters<typeof EfficientNet.create>[0]['weights']) => EfficientNet.create({ ...request.choice, weights, ...options });
  if (request.weightsPath === null) {
    const variant = request.choice.model !== undefined ? findPreset(request.choice.model).variant : request.choice.variant!;
    const weights = createSyntheticWeights({ variant, seed: 0 }); // seed 0: the same bytes every time
    const weightsSha256 = digest ? createHash('sha256').update(weights).digest('hex') : undefined;
    return { net: await create(weights), weightsSha256 };
  }
  const net = await withFileSource(request.weightsPath, 'weights', create);
  return { net, weightsSha256: digest ? await fileSha256(request.weightsPath) : undefined };
}
