/**
 * Deterministic synthetic weights: a safetensors file with timm's tensor names and shapes for any
 * network, filled with seeded pseudo-random values. They let every variant, B0 to L2, be tested
 * end to end (loading, packing, inference, cross-checks) without downloading a checkpoint.
 *
 * 1. Reproducible. For a given network, every value is a pure function of (seed, tensor name,
 *    element index): a counter-based hash, no sequential generator state. Any tensor can be
 *    regenerated alone (`syntheticTensor`), and the order of generation cannot change a bit.
 *
 * 2. Activations of order one in every variant, for any reasonable input. Inference BN uses fixed
 *    running statistics, so nothing renormalises the activations: each tensor's scale comes from a
 *    small model of the forward pass that tracks the second moment E[x^2] of the activations.
 *    - A conv with zero-mean weights of variance `v` over `fanIn` inputs multiplies E[x^2] by
 *      `fanIn * v` (in expectation over the weights, whatever the inputs' correlation).
 *    - BN with gamma near 1 and running_var uniform in [0.5, 1.5] multiplies E[x^2] by
 *      E[gamma^2] * E[1/var], about ln 3; the conv before it divides that out.
 *    - Swish inside the network gets inputs of std 0.05, where it is close to x/2 + x^2/4. Swish
 *      is not scale-free: E[swish(x)^2] / E[x^2] rises from 0.25 for small x to 0.5 for large x,
 *      so a layer whose input grew passes on even more. With unit-scale activations that feedback,
 *      compounded over 16 to 88 blocks, made the network explode or vanish depending on the input
 *      image (smooth images, with few strong channels, set it off). At std 0.05 even a channel ten
 *      times stronger than average stays in the near-linear range, so the network's gain hardly
 *      depends on the input's scale. Only the head's swish, the last one, gets std 1.
 *    - SE gates: the image-dependent part of their pre-activations has std at most 0.3 (at its
 *      largest, on a 1x1 map), and expand biases in [-1, 1] spread them over about 0.27..0.73:
 *      neither saturated nor constant, and not a second scale-dependent feedback loop.
 *    - A residual block adds its branch to its input, so E[x^2] grows by the branch's E[x^2], the
 *      square of its last BN's gamma. That gamma is 1/sqrt(R) for the R residual blocks of a
 *      stage, so a stage ends with E[x^2] of about 2 however deep it is (L2 has 21 residual blocks
 *      in one stage), and each block's first conv divides by the E[x^2] predicted at its input.
 *    - BN shifts (beta, running_mean) are 10% of the std the BN outputs: real, image-independent
 *      offsets, small enough that they do not pile up into the signal's size over 88 blocks.
 *    Measured with the tfjs reference (test/support) on noise, smooth and constant images: block
 *    outputs keep E[x^2] between about 0.1 and 4 from B0 at 224 to L2 at 32.
 *
 * Depthwise kernels put 3/4 of their variance on the centre tap, as trained kernels tend to. At
 * tiny test inputs, where a 5x5 window over a 1x1 map sees one pixel and 24 padding zeros, the
 * output keeps 3/4 of its variance rather than 1/25. The centre tap's magnitude varies only 25%
 * around its mean, with a random sign, so channel scales stay similar and activations light-tailed.
 *
 * No value is zero or denormal: every value is `mean + halfWidth * u` with u an odd multiple of
 * 2^-24 in (-1, 1), or a centre tap of magnitude at least 0.75 times its mean. The smallest
 * magnitudes are about 1e-10, far above float32's smallest normal, 1.2e-38.
 *
 * The file holds only F32 tensors: the writer stores no integer dtypes, so BN's
 * `num_batches_tracked` (an I64 scalar that inference ignores) is not written.
 */
import { blockModules, expectedTensors } from '../arch/layers.js';
import { buildNetwork, type BlockSpec, type NetworkSpec } from '../arch/network.js';
import type { ActivationName } from '../arch/topology.js';
import type { VariantName } from '../arch/variants.js';
import { ConfigError } from '../errors.js';
import { writeSafetensorsFrom } from './safetensors-writer.js';

export interface SyntheticWeightsOptions {
  /** A variant of the table, or an already built network (e.g. from custom coefficients). */
  readonly variant: VariantName | NetworkSpec;
  /** Unsigned 32-bit integer; the same seed always gives the same bytes. */
  readonly seed: number;
  /** Classifier width when `variant` is a name (default 1000); must match a given `NetworkSpec`. */
  readonly numClasses?: number;
}

/** `__metadata__` key whose value "true" marks a file as synthetic. */
export const SYNTHETIC_METADATA_KEY = 'efficientnet_wasm_synthetic';

/** Preprocessed images have roughly unit variance per channel. */
const INPUT_SECOND_MOMENT = 1;
/** Std of the swish inputs inside blocks and after the stem: where swish is nearly linear, see above. */
const ACTIVATION_INPUT_STD = 0.05;
/** E[swish(z)^2] / E[z^2] for z ~ N(0, 0.05^2), by numerical integration. */
const SWISH_GAIN = 0.2505;
/** E[x^2] of a swish output fed by a BN aimed at ACTIVATION_INPUT_STD. */
const SWISH_OUTPUT_MOMENT = ACTIVATION_INPUT_STD ** 2 * SWISH_GAIN;
/** Std of the head's swish input: the last activation, so it can work in swish's curved range. */
const HEAD_ACTIVATION_STD = 1;
/**
 * Std of a conv-bn-act block's activation input. Its output is the block's output, so it works at
 * unit scale like the head; there are at most four such blocks, too few for swish's scale
 * feedback (see above) to build up.
 */
const CONV_BLOCK_ACTIVATION_STD = 1;
/** E[swish(z)^2] for z ~ N(0, 1): the pooled features' E[f^2] on a 1x1 head map. */
const HEAD_SWISH_OUTPUT_MOMENT = 0.3558;
/**
 * E[act(z)^2] / E[z^2] for z ~ N(0, 0.05^2), and E[act(z)^2] for z ~ N(0, 1) (the head and
 * conv-bn-act blocks), per activation. ReLU keeps the positive half: exactly 1/2 of the second moment; ReLU6 is the same
 * here because 6 lies 120 (and 6) standard deviations out, where no value reaches.
 */
const ACTIVATION_GAIN: Readonly<Record<ActivationName, number>> = { swish: SWISH_GAIN, relu6: 0.5, relu: 0.5 };
const HEAD_OUTPUT_MOMENT: Readonly<Record<ActivationName, number>> = { swish: HEAD_SWISH_OUTPUT_MOMENT, relu6: 0.5, relu: 0.5 };
/** E[x^2] of an activation's output fed by a BN aimed at ACTIVATION_INPUT_STD. */
const activationOutputMoment = (activation: ActivationName): number => ACTIVATION_INPUT_STD ** 2 * ACTIVATION_GAIN[activation];
/** Std of the image-dependent part of SE pre-activations, at its largest. */
const GATE_SIGNAL_STD = 0.3;
/** E[swish(z)^2] / E[z^2] for z ~ N(0, 0.3^2): the SE bottleneck's activation. */
const GATE_SWISH_GAIN = 0.2657;
/** SE expand biases spread the gates' resting points over sigmoid(+-1) = 0.27..0.73. */
const GATE_BIAS_HALF_WIDTH = 1;
/** E[sigmoid(z + b)^2] for z ~ N(0, 0.3^2), b uniform in [-1, 1], by numerical integration. */
const GATE_SECOND_MOMENT = 0.2731;
/**
 * E[p^2] of an SE input p, the spatial mean of a swish output, at its largest: on a 1x1 map, or for
 * a spatially constant signal, p is the swish value itself. On large maps averaging shrinks the
 * image-dependent part and the gates rest on their biases. Scaling for the largest case keeps the
 * gates from saturating on smooth inputs; saturating gates pass more signal the larger it is.
 */
const POOLED_SECOND_MOMENT = SWISH_OUTPUT_MOMENT;
/** Logit std on a 1x1 head map when the model holds; measured logits have std of about 1 to 3. */
const LOGIT_STD = 4;

/** Relative spread of BN gamma around its centre: gamma = centre * (1 + 0.1 u). */
const GAMMA_SPREAD = 0.1;
/** BN running_var = 1 + 0.5 u, uniform in [0.5, 1.5]. */
const RUNNING_VAR_SPREAD = 0.5;
/**
 * Half-width of BN beta and running_mean relative to the std the BN outputs: image-independent
 * offsets adding 0.7% to its E[x^2] (2 * 0.1^2 / 3), present but never dominant.
 */
const SHIFT_FRACTION = 0.1;
/** Half-width of the SE reduce and classifier biases, next to pre-activations of std up to 0.3 and 4. */
const SMALL_BIAS_HALF_WIDTH = 0.05;
/**
 * E[x^2] gain of a BN with relative gamma 1 and running_var uniform in [0.5, 1.5]:
 * E[(1 + 0.1u)^2] * E[1/var] = (1 + 0.01/3) * ln 3 (eps is negligible next to var >= 0.5).
 */
const BN_SECOND_MOMENT_GAIN = (1 + GAMMA_SPREAD ** 2 / 3) * Math.log(3);
/** Share of a depthwise kernel's variance on its centre tap. */
const CENTRE_TAP_SHARE = 0.75;
/** Relative spread of the centre tap's magnitude. */
const CENTRE_MAGNITUDE_SPREAD = 0.25;

/** How one tensor's values are drawn from u, uniform in (-1, 1). */
type TensorRecipe =
  | { readonly kind: 'uniform'; readonly mean: number; readonly halfWidth: number }
  | { readonly kind: 'depthwise'; readonly taps: number; readonly centreMagnitude: number; readonly outerHalfWidth: number };

/** A uniform distribution has variance halfWidth^2 / 3. */
const halfWidthForVariance = (variance: number): number => Math.sqrt(3 * variance);

/** Zero-mean weights whose fan-in sum multiplies E[x^2] by `gain`. */
const fanInWeights = (fanIn: number, gain: number): TensorRecipe =>
  ({ kind: 'uniform', mean: 0, halfWidth: halfWidthForVariance(gain / fanIn) });

const centred = (halfWidth: number): TensorRecipe => ({ kind: 'uniform', mean: 0, halfWidth });

/**
 * The gain a conv needs so that, from an input with second moment `inputMoment`, the BN after it
 * (gamma centre 1) outputs second moment `targetMoment`.
 */
const convGain = (inputMoment: number, targetMoment: number): number => targetMoment / (inputMoment * BN_SECOND_MOMENT_GAIN);

/** The four BN tensors; `gamma` is the centre of its weight, `outputStd` the std it should output. */
function batchNormRecipes(recipes: Map<string, TensorRecipe>, name: string, gamma: number, outputStd: number): void {
  recipes.set(`${name}.weight`, { kind: 'uniform', mean: gamma, halfWidth: gamma * GAMMA_SPREAD });
  recipes.set(`${name}.bias`, centred(SHIFT_FRACTION * outputStd));
  recipes.set(`${name}.running_mean`, centred(SHIFT_FRACTION * outputStd));
  recipes.set(`${name}.running_var`, { kind: 'uniform', mean: 1, halfWidth: RUNNING_VAR_SPREAD });
}

/**
 * A depthwise kxk kernel whose taps together multiply E[x^2] by `gain`, 3/4 of it on the centre.
 * The centre tap has a random sign but a magnitude within 25% of its mean: it sets each channel's
 * scale, and widely spread channel scales make activations heavy-tailed.
 */
function depthwiseRecipe(kernel: number, gain: number): TensorRecipe {
  const taps = kernel * kernel;
  return {
    kind: 'depthwise',
    taps,
    // The magnitude is uniform in [0.75, 1.25] * c, so E[centre^2] = c^2 * (1 + 0.25^2 / 3).
    centreMagnitude: Math.sqrt((gain * CENTRE_TAP_SHARE) / (1 + CENTRE_MAGNITUDE_SPREAD ** 2 / 3)),
    outerHalfWidth: halfWidthForVariance((gain * (1 - CENTRE_TAP_SHARE)) / Math.max(1, taps - 1)),
  };
}

/** SE convs: the image-dependent part of both pre-activations has std up to 0.3; biases spread the gates. */
function squeezeExciteRecipes(recipes: Map<string, TensorRecipe>, block: BlockSpec): void {
  const prefix = `${block.name}.se`;
  recipes.set(`${prefix}.conv_reduce.weight`, fanInWeights(block.expandedChannels, GATE_SIGNAL_STD ** 2 / POOLED_SECOND_MOMENT));
  recipes.set(`${prefix}.conv_reduce.bias`, centred(SMALL_BIAS_HALF_WIDTH));
  recipes.set(`${prefix}.conv_expand.weight`, fanInWeights(block.seChannels, 1 / GATE_SWISH_GAIN));
  recipes.set(`${prefix}.conv_expand.bias`, centred(GATE_BIAS_HALF_WIDTH));
}

/**
 * Adds one block's recipes, given the predicted E[x^2] of its input, and returns the predicted
 * E[x^2] of its output. `residualGamma` is the centre of the last BN's gamma if the block is residual.
 * Walks the block's parts as `blockModules` names them: [expand] -> spatial -> [SE] -> [project].
 */
function blockRecipes(recipes: Map<string, TensorRecipe>, block: BlockSpec, inputMoment: number, residualGamma: number): number {
  const modules = blockModules(block);
  const activationMoment = ACTIVATION_INPUT_STD ** 2;
  const activated = activationOutputMoment(block.activation);
  const lastGamma = block.residual ? residualGamma : 1;
  let moment = inputMoment;
  if (modules.expand !== null) {
    recipes.set(`${modules.expand.conv}.weight`, fanInWeights(block.inChannels, convGain(moment, activationMoment)));
    batchNormRecipes(recipes, modules.expand.bn, 1, ACTIVATION_INPUT_STD);
    moment = activated;
  }
  const { spatial } = modules;
  const spatialIn = modules.expand !== null ? block.expandedChannels : block.inChannels;
  if (modules.project === null) {
    // conv-bn-act (V2's first stage, 1 to 4 blocks): the block ends in its activation, so like the
    // head it works at std 1 and hands on an output of order one, as every other block does.
    const target = CONV_BLOCK_ACTIVATION_STD ** 2;
    recipes.set(`${spatial.conv}.weight`, fanInWeights(spatialIn * block.kernel * block.kernel, convGain(moment, target)));
    batchNormRecipes(recipes, spatial.bn, 1, CONV_BLOCK_ACTIVATION_STD);
    const branch = HEAD_OUTPUT_MOMENT[block.activation];
    return block.residual ? inputMoment + branch : branch;
  }
  const gain = convGain(moment, activationMoment);
  recipes.set(`${spatial.conv}.weight`, spatial.depthwise
    ? depthwiseRecipe(block.kernel, gain)
    : fanInWeights(spatialIn * block.kernel * block.kernel, gain));
  batchNormRecipes(recipes, spatial.bn, 1, ACTIVATION_INPUT_STD);
  // The projection's input is an activation output, times the SE gates when there are some.
  let projectInput = activated;
  if (block.seChannels > 0) {
    squeezeExciteRecipes(recipes, block);
    projectInput *= GATE_SECOND_MOMENT;
  }
  recipes.set(`${modules.project.conv}.weight`, fanInWeights(block.expandedChannels, convGain(projectInput, 1)));
  batchNormRecipes(recipes, modules.project.bn, lastGamma, lastGamma);
  const branchMoment = lastGamma ** 2;
  return block.residual ? inputMoment + branchMoment : branchMoment;
}

/** The recipe of every tensor of the network, walking it in execution order. */
function networkRecipes(network: NetworkSpec): Map<string, TensorRecipe> {
  const recipes = new Map<string, TensorRecipe>();
  const stemFanIn = 3 * network.stem.kernel * network.stem.kernel;
  recipes.set('conv_stem.weight', fanInWeights(stemFanIn, convGain(INPUT_SECOND_MOMENT, ACTIVATION_INPUT_STD ** 2)));
  batchNormRecipes(recipes, 'bn1', 1, ACTIVATION_INPUT_STD);
  const residualBlocksPerStage = new Map<number, number>();
  for (const block of network.blocks) {
    if (block.residual) residualBlocksPerStage.set(block.stage, (residualBlocksPerStage.get(block.stage) ?? 0) + 1);
  }
  let moment = activationOutputMoment(network.stem.activation); // the stem ends in its activation
  for (const block of network.blocks) {
    const residualGamma = 1 / Math.sqrt(residualBlocksPerStage.get(block.stage) ?? 1);
    moment = blockRecipes(recipes, block, moment, residualGamma);
  }
  const lastChannels = network.blocks[network.blocks.length - 1].outChannels;
  recipes.set('conv_head.weight', fanInWeights(lastChannels, convGain(moment, HEAD_ACTIVATION_STD ** 2)));
  batchNormRecipes(recipes, 'bn2', 1, HEAD_ACTIVATION_STD);
  recipes.set('classifier.weight', fanInWeights(network.headChannels, LOGIT_STD ** 2 / HEAD_OUTPUT_MOMENT[network.head.activation]));
  recipes.set('classifier.bias', centred(SMALL_BIAS_HALF_WIDTH));
  return recipes;
}

/** MurmurHash3's 32-bit finaliser: a bijection on 32-bit integers; each input bit flips about half the output bits. */
function mix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  // Left signed (int32): staying in small-integer range keeps V8's loop on integer registers.
  return h ^ (h >>> 16);
}

/** FNV-1a over the name's UTF-16 code units (tensor names are ASCII). */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Two 32-bit keys for a tensor's stream. Element i gets `mix32(mix32(i ^ first) ^ second)`: the
 * inner mix is a different bijection of the index for every stream, and the outer one makes
 * streams that share a key unrelated, so no tensor's values are a shuffled copy of another's.
 */
function streamKeys(seed: number, name: string): readonly [number, number] {
  const first = mix32(hashName(name) ^ mix32(seed));
  const second = mix32(first ^ Math.imul(seed ^ 0x5bd1e995, 0x9e3779b9));
  return [first, second];
}

/** 2^-23: with the hash's top 24 bits m, (m + 0.5) * 2^-23 - 1 is uniform in (-1, 1), never 0. */
const UNIT_SCALE = 2 ** -23;

/** Element `index` of a stream as a uniform value in (-1, 1): an odd multiple of 2^-24, never 0. */
function unitUniform(index: number, first: number, second: number): number {
  return ((mix32(mix32(index ^ first) ^ second) >>> 8) + 0.5) * UNIT_SCALE - 1;
}

function fillFromRecipe(recipe: TensorRecipe, keys: readonly [number, number], target: Float32Array): void {
  const [first, second] = keys;
  if (recipe.kind === 'uniform') {
    const { mean, halfWidth } = recipe;
    for (let i = 0, n = target.length; i < n; i++) target[i] = mean + halfWidth * unitUniform(i, first, second);
  } else {
    const { taps, centreMagnitude, outerHalfWidth } = recipe;
    const centre = (taps - 1) >> 1; // odd square kernels: the middle of [kh, kw] in row-major order
    for (let start = 0, n = target.length; start < n; start += taps) {
      for (let tap = 0; tap < taps; tap++) {
        const u = unitUniform(start + tap, first, second);
        // Centre: the sign of u, magnitude (1 + spread * (2|u| - 1)) * c, uniform in [0.75, 1.25] * c.
        target[start + tap] = tap === centre
          ? Math.sign(u) * centreMagnitude * (1 + CENTRE_MAGNITUDE_SPREAD * (2 * Math.abs(u) - 1))
          : outerHalfWidth * u;
      }
    }
  }
}

function resolveNetwork(options: SyntheticWeightsOptions): NetworkSpec {
  const { variant, seed, numClasses } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ConfigError(`synthetic weights seed must be an integer from 0 to ${0xffffffff}, got ${seed}`);
  }
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1)) {
    throw new ConfigError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  if (typeof variant === 'string') return buildNetwork(variant, numClasses);
  if (numClasses !== undefined && numClasses !== variant.numClasses) {
    throw new ConfigError(`numClasses ${numClasses} contradicts the given network's ${variant.numClasses} classes`);
  }
  return variant;
}

function recipeFor(recipes: ReadonlyMap<string, TensorRecipe>, name: string): TensorRecipe {
  const recipe = recipes.get(name);
  if (recipe === undefined) throw new ConfigError(`the network has no tensor named "${name}"`);
  return recipe;
}

/** A safetensors file (F32, timm names and shapes, synthetic metadata) for the network. */
export function createSyntheticWeights(options: SyntheticWeightsOptions): Uint8Array {
  const network = resolveNetwork(options);
  const recipes = networkRecipes(network);
  const metadata = {
    format: 'pt',
    [SYNTHETIC_METADATA_KEY]: 'true',
    variant: network.name,
    seed: String(options.seed),
    num_classes: String(network.numClasses),
  };
  return writeSafetensorsFrom(
    expectedTensors(network),
    (name, target) => fillFromRecipe(recipeFor(recipes, name), streamKeys(options.seed, name), target),
    metadata,
  );
}

/** One tensor's values, exactly as `createSyntheticWeights` writes them, computed alone. */
export function syntheticTensor(options: SyntheticWeightsOptions, name: string): Float32Array {
  const network = resolveNetwork(options);
  const spec = expectedTensors(network).find((t) => t.name === name);
  if (spec === undefined) throw new ConfigError(`the network has no tensor named "${name}"`);
  const values = new Float32Array(spec.shape.reduce((a, b) => a * b, 1)); // [elements of spec.shape], row-major
  fillFromRecipe(recipeFor(networkRecipes(network), name), streamKeys(options.seed, name), values);
  return values;
}
