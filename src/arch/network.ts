/**
 * Expands scaling coefficients into the concrete network: every block with its channel counts,
 * kernel, stride, SE width and whether it has a residual connection. This is the single source
 * that the summary, the weight names, the planner and the diagrams all read.
 */
import { B0_STAGES, HEAD_CHANNELS, IMAGENET_CLASSES, SE_RATIO, STEM, type BlockKind, type StageSpec } from './stages.js';
import { roundChannels, roundRepeats, squeezeChannels } from './scaling.js';
import { variantCoefficients, type ScalingCoefficients, type VariantName } from './variants.js';

export interface BlockSpec {
  /** timm module prefix, e.g. `blocks.1.0`. */
  readonly name: string;
  /** Stage index as in timm (`blocks.{stage}`), 0-based. */
  readonly stage: number;
  /** Position inside the stage, 0-based. */
  readonly index: number;
  readonly kind: BlockKind;
  readonly inChannels: number;
  /** Width after the expand conv (equal to `inChannels` when there is none). */
  readonly expandedChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly expandRatio: number;
  /** Bottleneck width of squeeze-and-excitation, from the block's input channels. */
  readonly seChannels: number;
  /** Input is added to the output (stride 1 and unchanged channel count). */
  readonly residual: boolean;
}

export interface NetworkSpec {
  /** Variant name, or `custom` for coefficients outside the table. */
  readonly name: VariantName | 'custom';
  readonly coefficients: ScalingCoefficients;
  readonly stemChannels: number;
  readonly headChannels: number;
  readonly numClasses: number;
  readonly blocks: readonly BlockSpec[];
}

function expandStage(stage: StageSpec, stageIndex: number, inChannels: number, width: number, depth: number): BlockSpec[] {
  const outChannels = roundChannels(stage.outChannels, width);
  const repeats = roundRepeats(stage.repeats, depth);
  const blocks: BlockSpec[] = [];
  for (let index = 0; index < repeats; index++) {
    // Only the first block changes resolution and channel count; the rest repeat it in place.
    const blockIn = index === 0 ? inChannels : outChannels;
    const stride = index === 0 ? stage.stride : 1;
    blocks.push({
      name: `blocks.${stageIndex}.${index}`,
      stage: stageIndex,
      index,
      kind: stage.kind,
      inChannels: blockIn,
      expandedChannels: blockIn * stage.expandRatio,
      outChannels,
      kernel: stage.kernel,
      stride,
      expandRatio: stage.expandRatio,
      seChannels: squeezeChannels(blockIn, SE_RATIO),
      residual: stride === 1 && blockIn === outChannels,
    });
  }
  return blocks;
}

/** The network for a variant name (`b0` … `l2`) or for custom coefficients. */
export function buildNetwork(variant: VariantName | ScalingCoefficients, numClasses = IMAGENET_CLASSES): NetworkSpec {
  const coefficients = typeof variant === 'string' ? variantCoefficients(variant) : variant;
  const { width, depth } = coefficients;
  const stemChannels = roundChannels(STEM.outChannels, width);
  const blocks: BlockSpec[] = [];
  let channels = stemChannels;
  B0_STAGES.forEach((stage, stageIndex) => {
    const stageBlocks = expandStage(stage, stageIndex, channels, width, depth);
    blocks.push(...stageBlocks);
    channels = stageBlocks[stageBlocks.length - 1].outChannels;
  });
  return {
    name: typeof variant === 'string' ? variant : 'custom',
    coefficients,
    stemChannels,
    headChannels: roundChannels(HEAD_CHANNELS, width),
    numClasses,
    blocks,
  };
}

/** Spatial size after a conv of this stride; identical for TF-same and symmetric padding with odd kernels. */
export function convOutputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}
