/**
 * The public model object: matches a weights file to a network, packs it into a core instance,
 * runs forward passes on planned memory, and turns photos into answers.
 */
import { resolveCheckpoint } from './arch/checkpoint.js';
import { expectedTensors } from './arch/layers.js';
import type { NetworkSpec } from './arch/network.js';
import type { PaddingMode } from './arch/padding.js';
import type { CheckpointPreset } from './arch/presets.js';
import type { ScalingCoefficients, VariantName } from './arch/variants.js';
import { ConfigError, InputShapeError, ResourceLimitError, WeightsMismatchError } from './errors.js';
import { embedBatch, embedMany, type EmbedManyInput, type EmbedManyOptions, type EmbedManyResult } from './embed-many.js';
import { decodePixels, type DecodeOptions, type PixelData } from './image/decode.js';
import { classLabel, resolveLabels } from './labels.js';
import { createPreprocessor, type Preprocessor } from './image/preprocess.js';
import { preprocessRecipe, type PreprocessRecipe, type RecipeOptions } from './image/recipe.js';
import { buildProgram, elementCount, type Program, type ProgramOptions } from './plan/program.js';
import type { Engine, ProgramOutputs, RunOptions } from './runtime/outputs.js';
import { ReferenceExecutor } from './runtime/reference-executor.js';
import { availableThreads, compileThreadedCore, environmentProblem, instantiateThreadedCore, MAX_THREADS } from './runtime/threads/core.js';
import { WasmEngine, type ThreadingReport } from './runtime/wasm-engine.js';
import { isSimdMode, relaxedSimdProblem, type SimdMode, type SimdReport } from './runtime/simd.js';
import type { WasmSource } from './runtime/wasm.js';
import type { CodecWasm } from './image/codecs.js';
import { SYNTHETIC_METADATA_KEY } from './weights/synthetic.js';
import { matchTensors } from './weights/match.js';
import { foldingRecipe } from './weights/recipe.js';
import { classifierWidth } from './weights/classifier.js';
import { isByteSource } from './weights/byte-source.js';
import { describeShape, inferShape } from './weights/infer-variant.js';
import { toTimmNaming } from './weights/naming/index.js';
import { openWeights } from './weights/open.js';
import type { ByteSource, SourceNormalization, WeightSource } from './weights/source.js';

export type Backend = 'wasm' | 'reference';

/**
 * Side of the zero image `create` warms the code on: a twelfth of B0's work at 224, and enough
 * to have the engine optimise the stem and the other kernels, which 32 was not for the stem
 * (bench/first-call.bench.ts).
 */
const WARM_UP_SIZE = 64;
/** Runs of the warm-up image (see EfficientNet.warmUp). */
const WARM_UP_RUNS = 2;

export interface CreateOptions {
  /** A variant name (`b0` … `l2`) or custom scaling coefficients. Give this or `model`. */
  variant?: VariantName | ScalingCoefficients;
  /**
   * A checkpoint name such as `tf_efficientnet_b0.ns_jft_in1k` (timm) or `keras/EfficientNetB0`;
   * sets variant, padding, BN eps and preprocessing.
   */
  model?: string;
  /**
   * The weights: the bytes of a safetensors, PyTorch (`.pth`, zip or legacy) or Keras `.h5` file,
   * a ByteSource reading such a file by range, or an opened WeightSource. timm, torchvision,
   * EfficientNet-PyTorch and Keras names are recognised and mapped.
   */
  weights: Uint8Array | ArrayBuffer | ByteSource | WeightSource;
  /** Overrides the padding family (default: the preset's, else `same`). */
  padding?: PaddingMode;
  /** Overrides the BN epsilon (default: the preset's, else 1e-3 for `same` and 1e-5 for `symmetric`). */
  bnEps?: number;
  /**
   * Overrides the image preprocessing (default: the preset's, else timm's defaults at the
   * variant's resolution, with the mean and std the weights file carries when it has them, as a
   * Keras model's `normalization` layer).
   */
  preprocess?: RecipeOptions;
  /**
   * Evaluate at the preset's separate test size and crop where timm records one (as timm's
   * `validate.py` does by default, e.g. `efficientnet_b0.ra4_e3600_r224_in1k`: 256 at crop 1.0
   * instead of 224 at 0.9). Default false: `resolve_model_data_config`'s training size.
   */
  testSize?: boolean;
  /** `wasm` (default) runs the SIMD core; `reference` runs the plain TypeScript twins, for learning and checking. */
  backend?: Backend;
  /** Where to load the core from, if not from the package (a URL, path, bytes or compiled module). */
  wasm?: WasmSource;
  /**
   * Threads to run the network on (default 1), or `auto` for one per logical core. Results are
   * bit-identical for every count. Threads need SharedArrayBuffer (in browsers, a cross-origin
   * isolated page) and workers; where they cannot run, the model runs on one thread and
   * `threading.reason` says why. Where the calling thread may block (Node, a worker) it computes
   * as one of the threads, as it does alone; a browser page's main thread only waits for them.
   */
  threads?: number | 'auto';
  /** Where to load the threaded core from, if not from the package (`build/efficientnet-threads.wasm`). */
  threadsWasm?: WasmSource;
  /** Where the image decoders' `.wasm` files are, if not in the package (`build/codecs/`); see the README's Bundlers section. */
  codecWasm?: CodecWasm;
  /**
   * `deterministic` (default): the same bits on every engine and CPU. `relaxed` (opt-in): the
   * pointwise layers and the stem use fused multiply-add where the CPU has it (B0 measured at
   * 0.77-0.89 of the deterministic time), with results that differ from the deterministic build
   * in the last bits and may differ between machines. Where relaxed SIMD is unavailable (Node 20
   * without `--experimental-wasm-relaxed-simd`) the model runs deterministic and `simd.reason`
   * says why.
   */
  simd?: SimdMode;
  /**
   * The class names, one per class of the file's classifier (e.g. the classes a model was
   * fine-tuned to), used by `classify`; refused with a ConfigError naming both counts if there
   * are not exactly as many as the file has classes. Default: ImageNet's names for a 1000-class
   * head, `class i` for any other.
   */
  labels?: readonly string[];
}

export type { ThreadingReport, SimdMode, SimdReport };

export interface ForwardResult {
  /** `[n, numClasses]` row-major. */
  logits: Float32Array;
  /** `[n, headChannels]`: the globally pooled output of the head conv. */
  features: Float32Array;
  /** `[n, numClasses]`: the softmax of `logits`, computed in the core, when `probabilities: true` was asked for. */
  probabilities?: Float32Array;
  /** The maps `features` returns, for every image at once (`data` is NCHW `[n, c, h, w]`), when `featureMaps: true`. */
  featureMaps?: FeatureMap[];
}

export interface ForwardOptions extends RunOptions {
  /** Also compute the softmax of the logits (default false), as `classify` does, for callers that batch tensors themselves. */
  readonly probabilities?: boolean;
  /** Also return the feature maps `features` gives, for the whole batch (default false). */
  readonly featureMaps?: boolean;
}

/** Encoded JPEG or PNG bytes, or decoded RGBA/RGB pixels such as a canvas ImageData. */
export type ImageInput = Uint8Array | ArrayBuffer | PixelData;

export interface ImageOptions extends DecodeOptions {}

export interface ClassifyOptions extends ImageOptions {
  /** How many classes to return per image, most probable first (default 5). */
  topk?: number;
}

export interface Prediction {
  readonly index: number;
  readonly label: string;
  /** Softmax probability over all classes. */
  readonly probability: number;
  /** True when the model runs synthetic weights (`createSyntheticWeights`): the label means nothing then. */
  readonly synthetic: boolean;
}

export interface FeatureMap {
  /** timm module name of the block whose output this is, e.g. `blocks.2.1`. */
  readonly name: string;
  /** Downsampling relative to the network input: 2, 4, 8, 16 or 32. */
  readonly stride: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** `[channels, height, width]`, PyTorch layout. */
  readonly data: Float32Array;
}

interface ResolvedConfig {
  network: NetworkSpec;
  padding: PaddingMode;
  bnEps: number;
  preset: CheckpointPreset | null;
  recipe: PreprocessRecipe;
}

/**
 * `normalization` is what the weights file itself says about its inputs (a Keras model's
 * `normalization` layer): without an explicit `preprocess` it replaces the preset's or the
 * default mean and std, since the file knows what it was trained on.
 */
function resolveConfig(options: CreateOptions, numClasses: number, normalization?: SourceNormalization): ResolvedConfig {
  const checkpoint = resolveCheckpoint(options, numClasses);
  const { preset, network } = checkpoint;
  if (options.preprocess) return { ...checkpoint, recipe: preprocessRecipe(options.preprocess) };
  const recipe = preset ? preprocessRecipe(preset, { useTestSize: options.testSize === true }) : preprocessRecipe({ size: network.coefficients.resolution });
  return { ...checkpoint, recipe: normalization ? preprocessRecipe({ ...recipe, ...normalization }) : recipe };
}

/** The thread count an option asks for: an integer from 1 to MAX_THREADS, or `auto`. */
async function requestedThreads(option: CreateOptions['threads']): Promise<number> {
  if (option === undefined) return 1;
  if (option === 'auto') return availableThreads();
  if (!Number.isInteger(option) || option < 1 || option > MAX_THREADS) {
    throw new ConfigError(`threads must be an integer from 1 to ${MAX_THREADS} or "auto", got ${String(option)}`);
  }
  return option;
}

export class EfficientNet {
  readonly network: NetworkSpec;
  readonly padding: PaddingMode;
  readonly bnEps: number;
  /** The timm checkpoint this model was created for, if any. */
  readonly preset: CheckpointPreset | null;
  /** How images are resized, cropped and normalised before the network. */
  readonly recipe: PreprocessRecipe;
  readonly backend: Backend;
  /** The threads this model runs on, and why fewer than requested, if so. */
  readonly threading: ThreadingReport;
  /** Which build of the core runs this model, and why not the one asked for, if so. */
  readonly simd: SimdReport;
  /**
   * True when the weights are synthetic (`createSyntheticWeights` or `init-weights`, marked in the
   * file's metadata): the model runs, but its predictions mean nothing.
   */
  readonly synthetic: boolean;
  /** The label of each class, in class order (`numClasses` of them): the `labels` given, else the defaults. */
  readonly labels: readonly string[];
  private readonly engine: Engine;
  private readonly wasm: WasmSource | undefined;
  private readonly codecWasm: CodecWasm | undefined;
  private readonly programs = new Map<string, Program>();
  private preprocessor: Promise<Preprocessor> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    config: ResolvedConfig, backend: Backend, engine: Engine, threading: ThreadingReport, simd: SimdReport,
    loaded: { readonly options: CreateOptions; readonly synthetic: boolean; readonly labels: readonly string[] },
  ) {
    this.network = config.network;
    this.padding = config.padding;
    this.bnEps = config.bnEps;
    this.preset = config.preset;
    this.recipe = config.recipe;
    this.backend = backend;
    this.engine = engine;
    this.threading = threading;
    this.simd = simd;
    this.wasm = loaded.options.wasm;
    this.codecWasm = loaded.options.codecWasm;
    this.synthetic = loaded.synthetic;
    this.labels = loaded.labels;
  }

  /**
   * How many threads models can run on here (`auto`'s count), or 1 and the reason threads are
   * unavailable. It checks the environment and the threaded core; starting workers can still
   * fail at `create`, which then reports the reason in `threading`.
   */
  static async capabilities(options: { threadsWasm?: WasmSource } = {}): Promise<ThreadingReport> {
    const problem = environmentProblem();
    if (problem !== null) return { threads: 1, reason: problem };
    const module = await compileThreadedCore(options.threadsWasm);
    if (!module.ok) return { threads: 1, reason: module.reason };
    const core = await instantiateThreadedCore(module.value);
    if (!core.ok) return { threads: 1, reason: core.reason };
    return { threads: await availableThreads() };
  }

  /** Whether this engine can run the relaxed-SIMD build (`simd: 'relaxed'`), or why not. */
  static simdCapabilities(): SimdReport {
    const problem = relaxedSimdProblem();
    return problem === null ? { mode: 'relaxed' } : { mode: 'deterministic', reason: problem };
  }

  /**
   * Validates the weights against the network, then packs them and warms the model up (see
   * `warmUp`); nothing is built if anything is wrong.
   */
  static async create(options: CreateOptions): Promise<EfficientNet> {
    if (options === null || typeof options !== 'object') throw new ConfigError('EfficientNet.create needs an options object');
    const backend = options.backend ?? 'wasm';
    if (backend !== 'wasm' && backend !== 'reference') {
      throw new ConfigError(`unknown backend "${String(backend)}": expected "wasm" or "reference"`);
    }
    const weights = options.weights;
    if (!(weights instanceof Uint8Array) && !(weights instanceof ArrayBuffer) && !isByteSource(weights) && !isWeightSource(weights)) {
      throw new ConfigError('`weights` must be the bytes of a weights file (Uint8Array or ArrayBuffer), a ByteSource or a WeightSource');
    }
    const threads = await requestedThreads(options.threads);
    if (options.simd !== undefined && !isSimdMode(options.simd)) {
      throw new ConfigError(`unknown simd mode "${String(options.simd)}": expected "deterministic" or "relaxed"`);
    }
    const { source: file } = await toTimmNaming(isWeightSource(weights) ? weights : await openWeights(weights));
    const config = resolveConfig(options, classifierWidth(file), file.normalization);
    matchWithVariantHint(file, config);
    const recipe = foldingRecipe(config.network);
    const labels = resolveLabels(options.labels, config.network.numClasses);
    const loaded = { options, synthetic: file.metadata?.[SYNTHETIC_METADATA_KEY] === 'true', labels };
    if (backend === 'reference') {
      const threading = threads > 1 ? { threads: 1, reason: 'the reference backend runs on one thread' } : { threads: 1 };
      const simd: SimdReport = options.simd === 'relaxed'
        ? { mode: 'deterministic', reason: 'the reference backend runs the plain TypeScript twins' }
        : { mode: 'deterministic' };
      return new EfficientNet(config, backend, new ReferenceExecutor(file, recipe, config.bnEps), threading, simd, loaded);
    }
    const engine = await WasmEngine.load(file, recipe, config.bnEps, {
      wasm: options.wasm, threads, threadsWasm: options.threadsWasm, simd: options.simd,
    });
    const net = new EfficientNet(config, backend, engine, engine.threading, engine.simd, loaded);
    try {
      await net.warmUp();
    } catch (error) {
      engine.dispose();
      throw error;
    }
    return net;
  }

  /**
   * Makes the first `forward` at the model's own resolution about as fast as later ones (see
   * bench/first-call.bench.ts). The engine first runs new WebAssembly code unoptimised and
   * optimises each function once it has run a while, on a background thread; the first call
   * used to pay for that. So: plan (and grow memory for) the native-resolution programs of
   * `forward` and `classify` now, then run the network twice on a tiny zero image, which spends
   * the kernels' optimisation budget for a few milliseconds. Results cannot change: every run
   * writes each buffer before reading it, and the tiny arena lies within the native one, so
   * memory does not grow for it.
   */
  private async warmUp(): Promise<void> {
    const size = this.recipe.size;
    try {
      this.engine.prepare(this.programFor([1, 3, size, size], {}));
      if (this.numClasses > 0) this.engine.prepare(this.programFor([1, 3, size, size], { probabilities: true }));
      const tiny = Math.min(WARM_UP_SIZE, size);
      // Built outside `programs`: the cache keeps only programs the user asked for.
      const program = buildProgram(this.network, this.padding, [1, 3, tiny, tiny], {});
      const zeros = new Float32Array(3 * tiny * tiny); // [1, 3, tiny, tiny]
      // Twice: the first run has the kernels queued for optimisation, the second gives those
      // compiles time to land and warms the thread pool's own paths. With one run, the first
      // forward on two threads still took 1.3 to 4.9 times a warm one here; with two, 1.0 to 1.2.
      for (let run = 0; run < WARM_UP_RUNS; run++) await this.engine.run(program, zeros, {});
    } catch (error) {
      // Too large for this engine's memory at its own resolution: `forward` says so when asked,
      // and the model still runs smaller inputs; only the warm-up is given up.
      if (!(error instanceof ResourceLimitError)) throw error;
    }
  }

  get numClasses(): number {
    return this.network.numClasses;
  }

  /** The number of threads this model runs on. */
  get threads(): number {
    return this.threading.threads;
  }

  /** The channel count of `features` and of `embed`'s vectors. */
  get featureChannels(): number {
    return this.network.headChannels;
  }

  /**
   * Runs the network on `n` already-normalised images, NCHW float32 `[n, 3, height, width]`.
   * Calls are queued: concurrent calls run one after another and each gets its own result.
   */
  async forward(input: Float32Array, shape: readonly number[], options: ForwardOptions = {}): Promise<ForwardResult> {
    const programOptions = { probabilities: options.probabilities === true, featureMaps: options.featureMaps === true };
    const outputs = await this.run(input, shape, programOptions, options);
    const { logits, features, probabilities } = outputs;
    const result: ForwardResult = probabilities ? { logits, features, probabilities } : { logits, features };
    if (programOptions.featureMaps) result.featureMaps = this.featureMapsOf(this.programFor(shape, programOptions), outputs);
    return result;
  }

  /** The top `topk` classes of one image, or of each image of an array (run as one batch). */
  classify(image: ImageInput, options?: ClassifyOptions): Promise<Prediction[]>;
  classify(images: readonly ImageInput[], options?: ClassifyOptions): Promise<Prediction[][]>;
  async classify(images: ImageInput | readonly ImageInput[], options: ClassifyOptions = {}): Promise<Prediction[] | Prediction[][]> {
    const topk = options.topk ?? 5;
    if (!Number.isInteger(topk) || topk < 1) throw new ConfigError(`topk must be a positive integer, got ${topk}`);
    if (this.numClasses === 0) {
      throw new ConfigError('these weights have no classifier (a feature extractor), so there are no classes: use embed or features');
    }
    const list = Array.isArray(images) ? (images as readonly ImageInput[]) : [images as ImageInput];
    const { input, shape } = await this.preprocessImages(list, options);
    const { probabilities } = await this.run(input, shape, { probabilities: true });
    const classes = this.numClasses;
    const perImage = list.map((_, i) => topPredictions(probabilities!.subarray(i * classes, (i + 1) * classes), Math.min(topk, classes), this.synthetic, this.labels));
    return Array.isArray(images) ? perImage : perImage[0];
  }

  /**
   * The pooled feature vector (`featureChannels` values) of one image: an embedding; or of each
   * image of an array, run as one batch (each row bit-identical to embedding that image alone).
   */
  embed(image: ImageInput, options?: ImageOptions): Promise<Float32Array>;
  embed(images: readonly ImageInput[], options?: ImageOptions): Promise<Float32Array[]>;
  async embed(images: ImageInput | readonly ImageInput[], options: ImageOptions = {}): Promise<Float32Array | Float32Array[]> {
    if (Array.isArray(images)) return embedBatch(this, images as readonly ImageInput[], options);
    const { input, shape } = await this.preprocessImages([images as ImageInput], options);
    return (await this.run(input, shape, {})).features;
  }

  /**
   * Embeddings of any number of images (an iterable or async iterable; paths too, given a
   * `readFile`), yielded in input order, a batch at a time, with bounded memory. See embed-many.ts.
   */
  embedMany(images: Iterable<EmbedManyInput> | AsyncIterable<EmbedManyInput>, options: EmbedManyOptions = {}): AsyncGenerator<EmbedManyResult> {
    return embedMany(this, images, options);
  }

  /** The feature maps at strides 2, 4, 8, 16 and 32 (the last block at each), like timm's `features_only`. */
  async features(image: ImageInput, options: ImageOptions = {}): Promise<FeatureMap[]> {
    const { input, shape } = await this.preprocessImages([image], options);
    const outputs = await this.run(input, shape, { featureMaps: true });
    return this.featureMapsOf(this.programFor(shape, { featureMaps: true }), outputs);
  }

  /** Names and shapes for the feature-map outputs of a run (one image's `[c, h, w]`, or `[n, c, h, w]`). */
  private featureMapsOf(program: Program, outputs: ProgramOutputs): FeatureMap[] {
    return program.featureMaps.map((m, i) => {
      const [, channels, height, width] = program.buffers.get(m.buffer)!.shape;
      return { name: m.module, stride: m.stride, channels, height, width, data: outputs.featureMaps[i] };
    });
  }

  /** Decodes and preprocesses images with this model's recipe into one NCHW batch. */
  async preprocessImages(images: readonly ImageInput[], options: ImageOptions = {}): Promise<{ input: Float32Array; shape: number[] }> {
    if (images.length === 0) throw new InputShapeError('no images given');
    // The decoder's RGBA as it is: the preprocessor reads it directly, with no pass dropping alpha.
    const decoded: PixelData[] = [];
    for (const image of images) decoded.push(await decodePixels(image, { codecWasm: this.codecWasm, ...options }));
    this.preprocessor ??= createPreprocessor({ wasm: this.wasm });
    const preprocessor = await this.preprocessor;
    const size = this.recipe.size;
    return { input: preprocessor.preprocessBatch(decoded, this.recipe), shape: [images.length, 3, size, size] };
  }

  /** Releases the core's memory and stops its worker threads. The object cannot be used afterwards. */
  dispose(): void {
    this.disposed = true;
    this.engine.dispose();
  }

  private programFor(shape: readonly number[], options: ProgramOptions): Program {
    const key = `${shape.join('x')}:${options.probabilities ? 'p' : ''}${options.featureMaps ? 'f' : ''}`;
    let program = this.programs.get(key);
    if (!program) {
      program = buildProgram(this.network, this.padding, shape as [number, number, number, number], options);
      this.programs.set(key, program);
    }
    return program;
  }

  /** Queues one run so concurrent calls never interleave on the shared memory. */
  private run(input: Float32Array, shape: readonly number[], programOptions: ProgramOptions, options: RunOptions = {}): Promise<ProgramOutputs> {
    const task = async (): Promise<ProgramOutputs> => {
      if (this.disposed) throw new ConfigError('this EfficientNet was disposed; create a new one');
      if (!(input instanceof Float32Array)) throw new InputShapeError('input must be a Float32Array (NCHW float32)');
      if (!Array.isArray(shape)) throw new InputShapeError('shape must be an array [n, 3, height, width]');
      const program = this.programFor(shape, programOptions);
      // Memory is planned (and a too-large request refused) before the input is even looked at.
      this.engine.prepare(program);
      if (input.length !== elementCount(shape)) {
        throw new InputShapeError(`input has ${input.length} values but shape [${shape.join(', ')}] needs ${elementCount(shape)}`);
      }
      return this.engine.run(program, input, options);
    };
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** Whether a value is an opened WeightSource (rather than bytes or a ByteSource). */
function isWeightSource(value: unknown): value is WeightSource {
  return typeof value === 'object' && value !== null && (value as WeightSource).tensors instanceof Map &&
    typeof (value as WeightSource).readInto === 'function';
}

/** The all-mismatches-at-once check, plus which variant the file's own shapes are. */
function matchWithVariantHint(file: WeightSource, config: ResolvedConfig): void {
  try {
    matchTensors(file, expectedTensors(config.network), {
      describe: config.preset ? `timm ${config.preset.name}` : `EfficientNet-${config.network.name.toUpperCase()}`,
    });
  } catch (error) {
    if (!(error instanceof WeightsMismatchError)) throw error;
    const shape = inferShape(file);
    if (shape.stemChannels === null) throw error;
    throw new WeightsMismatchError(`${error.message}; the file's shapes are those of ${describeShape(shape)}`);
  }
}

export { classLabel };

/**
 * The `topk` most probable classes of one image's probabilities, ties broken by the lower index,
 * named by `labels` (one per class; default: ImageNet's names for 1000 classes, else the index).
 */
export function topPredictions(probabilities: Float32Array, topk: number, synthetic: boolean, labels?: readonly string[]): Prediction[] {
  const label = (index: number): string => (labels ? labels[index] : classLabel(index, probabilities.length));
  return topIndices(probabilities, topk).map((index) => ({ index, label: label(index), probability: probabilities[index], synthetic }));
}

/**
 * The first `topk` indices of the order "higher value first, then lower index": the prefix a full
 * sort would give, kept by insertion into a list of at most `topk` (a server ranks every answer,
 * and sorting all 1000 classes to keep 5 cost it a sixth of its HTTP thread). A NaN has no place
 * in that order, so values holding one are sorted whole, as before.
 */
function topIndices(values: Float32Array, topk: number): number[] {
  const before = (a: number, b: number): number => values[b] - values[a] || a - b;
  const count = Math.min(Math.max(0, Math.floor(topk)), values.length);
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== value) return Array.from(values.keys()).sort(before).slice(0, count);
    // Indices arrive in increasing order, so an equal value never goes before one already kept.
    if (kept.length === count && (count === 0 || value <= values[kept[count - 1]])) continue;
    let at = kept.length === count ? count - 1 : kept.length;
    while (at > 0 && values[kept[at - 1]] < value) {
      kept[at] = kept[at - 1];
      at--;
    }
    kept[at] = i;
  }
  return kept;
}
