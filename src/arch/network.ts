/**
 * Decodes a topology and scaling coefficients into the concrete network: every block with its
 * kind, channel counts, kernel, stride, SE width, activation and whether it has a residual
 * connection. This is the single list that the layers, the weight names, the planner, the ONNX
 * exporter, the synthetic weights and the diagrams all walk.
 */
import { IMAGENET_CLASSES } from './stages.js';
import { roundChannels, roundRepeats, squeezeChannels } from './scaling.js';
import type { ActivationName, BlockKind, EndConvSpec, StageSpec, Topology } from './topology.js';
import { EFFICIENTNET } from './stages.js';
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
  /**
   * Width inside the block: after the expand conv of `mbconv` and `fused-mbconv`; equal to
   * `inChannels` for `depthwise-separable` and to `outChannels` for `conv-bn-act`.
   */
  readonly expandedChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly expandRatio: number;
  /** Bottleneck width of squeeze-and-excitation, from the block's input channels; 0 for no SE. */
  readonly seChannels: number;
  readonly activation: ActivationName;
  /** Input is added to the output (stride 1 and unchanged channel count, unless the rule says never). */
  readonly residual: boolean;
}

/** The stem or head conv with its channel count decided. */
export interface EndConv {
  readonly kernel: number;
  readonly stride: number;
  readonly channels: number;
  readonly activation: ActivationName;
}

export interface NetworkSpec {
  /** Variant name, or `custom` for coefficients outside the table. */
  readonly name: VariantName | 'custom';
  readonly topology: Topology;
  readonly coefficients: ScalingCoefficients;
  readonly stem: EndConv;
  readonly head: EndConv;
  /** `stem.channels` and `head.channels`, kept as fields because every consumer wants them. */
  readonly stemChannels: number;
  readonly headChannels: number;
  readonly numClasses: number;
  readonly blocks: readonly BlockSpec[];
}

/** Width inside a block of this kind: see `BlockSpec.expandedChannels`. */
function innerChannels(kind: BlockKind, inChannels: number, outChannels: number, expandRatio: number): number {
  if (kind === 'conv-bn-act') return outChannels;
  if (kind === 'depthwise-separable') return inChannels;
  return inChannels * expandRatio;
}

function expandStage(stage: StageSpec, stageIndex: number, inChannels: number, outChannels: number, repeats: number): BlockSpec[] {
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
      expandedChannels: innerChannels(stage.kind, blockIn, outChannels, stage.expandRatio),
      outChannels,
      kernel: stage.kernel,
      stride,
      expandRatio: stage.expandRatio,
      seChannels: stage.seRatio === null ? 0 : squeezeChannels(blockIn, stage.seRatio),
      activation: stage.activation,
      residual: stage.residual === 'when-shapes-match' && stride === 1 && blockIn === outChannels,
    });
  }
  return blocks;
}

/** A topology scaled by (width, depth): the blocks, stem and head with their channel counts. */
export function decodeTopology(
  topology: Topology, coefficients: ScalingCoefficients, name: VariantName | 'custom', numClasses = IMAGENET_CLASSES,
): NetworkSpec {
  const { width, depth } = coefficients;
  const channels = (count: number): number => roundChannels(count, width, topology.channelDivisor, topology.roundLimit);
  const endConv = (spec: EndConvSpec): EndConv => ({
    kernel: spec.kernel, stride: spec.stride, channels: spec.scaled ? channels(spec.channels) : spec.channels, activation: spec.activation,
  });
  const stem = endConv(topology.stem);
  const head = endConv(topology.head);
  const last = topology.stages.length - 1;
  const blocks: BlockSpec[] = [];
  let current = stem.channels;
  topology.stages.forEach((stage, stageIndex) => {
    const fixed = topology.fixFirstLastRepeats && (stageIndex === 0 || stageIndex === last);
    const repeats = fixed ? stage.repeats : roundRepeats(stage.repeats, depth);
    const stageBlocks = expandStage(stage, stageIndex, current, channels(stage.outChannels), repeats);
    blocks.push(...stageBlocks);
    current = stageBlocks[stageBlocks.length - 1].outChannels;
  });
  return { name, topology, coefficients, stem, head, stemChannels: stem.channels, headChannels: head.channels, numClasses, blocks };
}

/**
 * The network for a variant name (`b0` … `l2`, `lite0` … `lite4`, `v2_b0` … `v2_xl`), or for
 * custom coefficients of EfficientNet's own topology.
 */
export function buildNetwork(variant: VariantName | ScalingCoefficients, numClasses = IMAGENET_CLASSES): NetworkSpec {
  if (typeof variant === 'string') {
    const spec = variantCoefficients(variant);
    const { width, depth, resolution, dropout } = spec;
    return decodeTopology(spec.topology, { width, depth, resolution, dropout }, variant, numClasses);
  }
  return decodeTopology(EFFICIENTNET, variant, 'custom', numClasses);
}

/** Spatial size after a conv of this stride; identical for TF-same and symmetric padding with odd kernels. */
export function convOutputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}
