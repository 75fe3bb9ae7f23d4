/**
 * The public model object: matches a weights file to a network, packs it into a core instance,
 * and runs forward passes on planned memory.
 */
import { expectedTensors } from './arch/layers.js';
import { buildNetwork, type NetworkSpec } from './arch/network.js';
import { findPreset, type CheckpointPreset } from './arch/presets.js';
import { isVariantName, type ScalingCoefficients, type VariantName } from './arch/variants.js';
import { ConfigError, InputShapeError } from './errors.js';
import { DEFAULT_BN_EPS, parsePaddingMode, type PaddingMode } from './arch/padding.js';
import { buildProgram, elementCount, type Checkpoint, type Program } from './plan/program.js';
import { planProgramMemory } from './plan/memory.js';
import { loadKernels, type CoreKernels } from './runtime/kernels.js';
import { layoutWeights, packWeights, type WeightLayout } from './runtime/packed-weights.js';
import { assertFitsWasm32, ensureMemory } from './runtime/memory-limits.js';
import { prepareProgram, type PreparedProgram } from './runtime/wasm-executor.js';
import { ReferenceExecutor } from './runtime/reference-executor.js';
import type { WasmSource } from './runtime/wasm.js';
import { foldingRecipe } from './weights/recipe.js';
import { matchTensors } from './weights/match.js';
import { parseSafetensors, type SafetensorsFile } from './weights/safetensors.js';

export type Backend = 'wasm' | 'reference';

export interface CreateOptions {
  /** A variant name (`b0` … `l2`) or custom scaling coefficients. Give this or `model`. */
  variant?: VariantName | ScalingCoefficients;
  /** A timm checkpoint name such as `tf_efficientnet_b0.ns_jft_in1k`; sets variant, padding and BN eps. */
  model?: string;
  /** The bytes of a safetensors file with timm's tensor names. */
  weights: Uint8Array | ArrayBuffer;
  /** Overrides the padding family (default: the preset's, else `same`). */
  padding?: PaddingMode;
  /** Overrides the BN epsilon (default: the preset's, else 1e-3 for `same` and 1e-5 for `symmetric`). */
  bnEps?: number;
  /** `wasm` (default) runs the SIMD core; `reference` runs the plain TypeScript twins, for learning and checking. */
  backend?: Backend;
  /** Where to load the core from, if not from the package (a URL, path, bytes or compiled module). */
  wasm?: WasmSource;
}

export interface ForwardResult {
  /** `[n, numClasses]` row-major. */
  logits: Float32Array;
  /** `[n, headChannels]`: the globally pooled output of the head conv. */
  features: Float32Array;
}

export interface ForwardOptions {
  /**
   * Called after each checkpoint (stem, each block, head, pool, classifier) with a copy of its
   * output: NHWC `[n, h, w, c]` for feature maps, `[n, c]` for vectors.
   */
  onCheckpoint?: (checkpoint: Checkpoint, data: Float32Array, shape: readonly number[]) => void;
}

interface ResolvedConfig {
  network: NetworkSpec;
  padding: PaddingMode;
  bnEps: number;
  preset: CheckpointPreset | null;
}

function resolveConfig(options: CreateOptions, numClasses: number): ResolvedConfig {
  if ((options.variant === undefined) === (options.model === undefined)) {
    throw new ConfigError('give exactly one of `variant` (b0 … l2) or `model` (a timm checkpoint name)');
  }
  const preset = options.model !== undefined ? findPreset(options.model) : null;
  const variant = preset ? preset.variant : options.variant!;
  if (typeof variant === 'string' && !isVariantName(variant)) {
    throw new ConfigError(`unknown variant "${variant}": expected one of b0 … b8, l2`);
  }
  const padding = options.padding !== undefined ? parsePaddingMode(options.padding) : preset?.padding ?? 'same';
  const bnEps = options.bnEps ?? (options.padding === undefined && preset ? preset.bnEps : DEFAULT_BN_EPS[padding]);
  if (!Number.isFinite(bnEps) || bnEps <= 0) throw new ConfigError(`bnEps must be a positive number, got ${bnEps}`);
  return { network: buildNetwork(variant, numClasses), padding, bnEps, preset };
}

/** Classes in the file's classifier, so heads other than ImageNet-1k load too. */
function classifierWidth(file: SafetensorsFile): number {
  const shape = file.tensors.get('classifier.weight')?.shape;
  return shape && shape.length === 2 && shape[0] > 0 ? shape[0] : 1000;
}

const shapeKey = (shape: readonly number[]): string => shape.join('x');

export class EfficientNet {
  readonly network: NetworkSpec;
  readonly padding: PaddingMode;
  readonly bnEps: number;
  readonly preset: CheckpointPreset | null;
  readonly backend: Backend;
  private readonly engine: WasmEngine | ReferenceExecutor;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(config: ResolvedConfig, backend: Backend, engine: WasmEngine | ReferenceExecutor) {
    this.network = config.network;
    this.padding = config.padding;
    this.bnEps = config.bnEps;
    this.preset = config.preset;
    this.backend = backend;
    this.engine = engine;
  }

  /** Validates the weights against the network, then packs them; nothing is built if anything is wrong. */
  static async create(options: CreateOptions): Promise<EfficientNet> {
    if (options === null || typeof options !== 'object') throw new ConfigError('EfficientNet.create needs an options object');
    const backend = options.backend ?? 'wasm';
    if (backend !== 'wasm' && backend !== 'reference') {
      throw new ConfigError(`unknown backend "${String(backend)}": expected "wasm" or "reference"`);
    }
    if (!(options.weights instanceof Uint8Array) && !(options.weights instanceof ArrayBuffer)) {
      throw new ConfigError('`weights` must be the bytes of a safetensors file (Uint8Array or ArrayBuffer)');
    }
    const bytes = options.weights instanceof Uint8Array ? options.weights : new Uint8Array(options.weights);
    const file = parseSafetensors(bytes);
    const config = resolveConfig(options, classifierWidth(file));
    matchTensors(file, expectedTensors(config.network), {
      describe: config.preset ? `timm ${config.preset.name}` : `EfficientNet-${config.network.name.toUpperCase()}`,
    });
    const recipe = foldingRecipe(config.network);
    const engine = backend === 'wasm'
      ? await WasmEngine.load(file, recipe, config.bnEps, options.wasm)
      : new ReferenceExecutor(file, recipe, config.bnEps);
    return new EfficientNet(config, backend, engine);
  }

  get numClasses(): number {
    return this.network.numClasses;
  }

  /** The channel count of `features`. */
  get featureChannels(): number {
    return this.network.headChannels;
  }

  /**
   * Runs the network on `n` already-normalised images, NCHW float32 `[n, 3, height, width]`.
   * Calls are queued: concurrent calls run one after another and each gets its own result.
   */
  forward(input: Float32Array, shape: readonly number[], options: ForwardOptions = {}): Promise<ForwardResult> {
    const run = async (): Promise<ForwardResult> => {
      if (this.disposed) throw new ConfigError('this EfficientNet was disposed; create a new one');
      if (!(input instanceof Float32Array)) throw new InputShapeError('input must be a Float32Array (NCHW float32)');
      const program = this.programFor(shape);
      // Memory is planned (and a too-large request refused) before the input is even looked at.
      this.engine.prepare(program);
      if (input.length !== elementCount(program.buffers.get(program.input)!.shape)) {
        throw new InputShapeError(
          `input has ${input.length} values but shape [${shape.join(', ')}] needs ${elementCount(shape)}`,
        );
      }
      return this.engine.run(program, input, options);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Releases the core's memory. The object cannot be used afterwards. */
  dispose(): void {
    this.disposed = true;
    this.engine.dispose();
  }

  private readonly programs = new Map<string, Program>();

  private programFor(shape: readonly number[]): Program {
    const key = shapeKey(shape);
    let program = this.programs.get(key);
    if (!program) {
      program = buildProgram(this.network, this.padding, shape as [number, number, number, number]);
      this.programs.set(key, program);
    }
    return program;
  }
}

/** The SIMD core with packed weights, and the prepared programs for each input shape seen so far. */
class WasmEngine {
  private readonly prepared = new Map<Program, PreparedProgram>();
  private kernels: CoreKernels | null;

  private constructor(kernels: CoreKernels, private readonly weights: WeightLayout) {
    this.kernels = kernels;
  }

  static async load(file: SafetensorsFile, recipe: ReturnType<typeof foldingRecipe>, bnEps: number, wasm?: WasmSource): Promise<WasmEngine> {
    const kernels = await loadKernels(wasm);
    const layout = layoutWeights(kernels, recipe, kernels.heap_base());
    packWeights(kernels, layout, file, bnEps);
    return new WasmEngine(kernels, layout);
  }

  /** Plans memory for a program on first use; the result is kept, so later runs allocate nothing. */
  prepare(program: Program): PreparedProgram {
    let prepared = this.prepared.get(program);
    if (!prepared) {
      const kernels = this.kernels!;
      const arena = planProgramMemory(program);
      const what = `a batch of ${program.n} at ${program.height}x${program.width}`;
      assertFitsWasm32(this.weights.end + arena.bytes + 65536, what);
      prepared = prepareProgram(kernels, program, arena, this.weights, this.weights.end);
      ensureMemory(kernels.memory, prepared.end, what);
      this.prepared.set(program, prepared);
    }
    return prepared;
  }

  run(program: Program, input: Float32Array, options: ForwardOptions): ForwardResult {
    const kernels = this.kernels!;
    const prepared = this.prepare(program);
    const floatsAt = (id: string): Float32Array => {
      const shape = program.buffers.get(id)!.shape;
      return new Float32Array(kernels.memory.buffer, prepared.offsets.get(id)!, elementCount(shape));
    };
    floatsAt(program.input).set(input);
    const checkpoints = options.onCheckpoint ? program.checkpoints : [];
    let next = 0;
    prepared.calls.forEach((call, index) => {
      call();
      while (next < checkpoints.length && checkpoints[next].afterStep === index) {
        const c = checkpoints[next++];
        options.onCheckpoint!(c, floatsAt(c.buffer).slice(), program.buffers.get(c.buffer)!.shape);
      }
    });
    return { logits: floatsAt(program.logits).slice(), features: floatsAt(program.features).slice() };
  }

  dispose(): void {
    this.kernels = null;
    this.prepared.clear();
  }
}
