/**
 * The B0 baseline: the seven stages that every variant scales. Stage numbering follows timm's
 * module names, so stage `i` here is `blocks.{i}` in a checkpoint (the paper counts the stem as
 * stage 1 and calls these stages 2-8).
 */

export type BlockKind = 'depthwise-separable' | 'mbconv';

export interface StageSpec {
  /** `depthwise-separable` has no expansion conv; `mbconv` is the inverted residual. */
  readonly kind: BlockKind;
  /** Depthwise kernel size (square). */
  readonly kernel: number;
  /** Stride of the stage's first block; later blocks use stride 1. */
  readonly stride: number;
  /** Expansion ratio of the 1x1 expand conv (1 means no expand conv). */
  readonly expandRatio: number;
  /** Output channels before width scaling. */
  readonly outChannels: number;
  /** Blocks in the stage before depth scaling. */
  readonly repeats: number;
}

/** Ratio of the squeeze-and-excitation bottleneck to the block's input channels. */
export const SE_RATIO = 0.25;

/** Stem conv: 3x3, stride 2, 32 channels before width scaling. */
export const STEM = { kernel: 3, stride: 2, outChannels: 32 } as const;

/** Head 1x1 conv: 1280 channels before width scaling. */
export const HEAD_CHANNELS = 1280;

/** Classes of the ImageNet-1k classifier every published checkpoint carries. */
export const IMAGENET_CLASSES = 1000;

export const B0_STAGES: readonly StageSpec[] = [
  { kind: 'depthwise-separable', kernel: 3, stride: 1, expandRatio: 1, outChannels: 16, repeats: 1 },
  { kind: 'mbconv', kernel: 3, stride: 2, expandRatio: 6, outChannels: 24, repeats: 2 },
  { kind: 'mbconv', kernel: 5, stride: 2, expandRatio: 6, outChannels: 40, repeats: 2 },
  { kind: 'mbconv', kernel: 3, stride: 2, expandRatio: 6, outChannels: 80, repeats: 3 },
  { kind: 'mbconv', kernel: 5, stride: 1, expandRatio: 6, outChannels: 112, repeats: 3 },
  { kind: 'mbconv', kernel: 5, stride: 2, expandRatio: 6, outChannels: 192, repeats: 4 },
  { kind: 'mbconv', kernel: 3, stride: 1, expandRatio: 6, outChannels: 320, repeats: 1 },
];
