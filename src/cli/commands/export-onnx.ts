/**
 * `efficientnet export-onnx`: writes the network with its weights as an ONNX model (BN folded,
 * symbolic batch and image size), for ONNX Runtime or any other ONNX consumer.
 */
import { buildNetwork } from '../../arch/network.js';
import { DEFAULT_BN_EPS, parsePaddingMode } from '../../arch/padding.js';
import { findPreset } from '../../arch/presets.js';
import { IMAGENET_CLASSES } from '../../arch/stages.js';
import { isVariantName } from '../../arch/variants.js';
import { DEFAULT_OPSET, exportOnnx } from '../../onnx/export.js';
import { parseSafetensors, type SafetensorsFile } from '../../weights/safetensors.js';
import { readInputFile, writeOutputFile } from '../files.js';
import { integerOption, numberOption, parseOptions, requireOption, UsageError } from '../args.js';

export const exportOnnxUsage =
  'efficientnet export-onnx (--variant V | --model M) --weights FILE [--padding same|symmetric] [--bn-eps E] ' +
  '[--opset N] --out model.onnx';

/** Classes in the file's classifier, so heads other than ImageNet-1k export too. */
function classifierWidth(file: SafetensorsFile): number {
  const shape = file.tensors.get('classifier.weight')?.shape;
  return shape && shape.length === 2 && shape[0] > 0 ? shape[0] : IMAGENET_CLASSES;
}

export function exportOnnxCommand(argv: string[], out: (line: string) => void): void {
  const { values } = parseOptions(argv, {
    variant: { type: 'string' },
    model: { type: 'string' },
    weights: { type: 'string' },
    padding: { type: 'string' },
    'bn-eps': { type: 'string' },
    opset: { type: 'string' },
    out: { type: 'string' },
  });
  if ((values.variant === undefined) === (values.model === undefined)) throw new UsageError('give exactly one of --variant or --model');
  if (values.variant !== undefined && !isVariantName(values.variant)) throw new UsageError(`unknown variant "${values.variant}": expected b0 … b8 or l2`);
  const weightsPath = requireOption(values.weights, '--weights');
  const outPath = requireOption(values.out, '--out');
  // The same defaults as EfficientNet.create: a preset's padding and eps, an explicit --padding's own eps, else TF's.
  const preset = values.model !== undefined ? findPreset(values.model) : null;
  const padding = values.padding !== undefined ? parsePaddingMode(values.padding) : preset?.padding ?? 'same';
  const bnEps = numberOption(values['bn-eps'], '--bn-eps') ?? (values.padding === undefined && preset ? preset.bnEps : DEFAULT_BN_EPS[padding]);
  const opset = integerOption(values.opset, '--opset', DEFAULT_OPSET);

  const weights = parseSafetensors(readInputFile(weightsPath, 'weights'));
  const network = buildNetwork(preset ? preset.variant : (values.variant as 'b0'), classifierWidth(weights));
  const model = exportOnnx({ network, weights, padding, bnEps, opset });
  writeOutputFile(outPath, model);
  out(
    `wrote ${outPath} (${(model.length / 2 ** 20).toFixed(1)} MiB): EfficientNet-${network.name.toUpperCase()}, ${padding} padding, ` +
      `BN eps ${bnEps} folded, opset ${opset}; input "input" [batch, 3, height, width], ` +
      `outputs "logits" [batch, ${network.numClasses}] and "features" [batch, ${network.headChannels}]`,
  );
}
