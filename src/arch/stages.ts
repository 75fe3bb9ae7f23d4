/**
 * The topologies of the family, as data (see `topology.ts` for what each field means). Stage
 * numbering follows timm's module names, so stage `i` here is `blocks.{i}` in a checkpoint (the
 * EfficientNet paper counts the stem as stage 1 and calls these stages 2-8).
 *
 * Facts read from timm's `timm/models/efficientnet.py` (`_gen_efficientnet`,
 * `_gen_efficientnet_lite`, `_gen_efficientnetv2_base`, `_gen_efficientnetv2_s/m/l/xl`) and
 * checked against published parameter counts in test/arch.
 */
import type { ActivationName, EndConvSpec, StageSpec, Topology } from './topology.js';

export type { BlockKind, StageSpec } from './topology.js';

/** Ratio of the squeeze-and-excitation bottleneck to the block's input channels, wherever SE is used. */
export const SE_RATIO = 0.25;

/** Stem conv of EfficientNet B0-L2: 3x3, stride 2, 32 channels before width scaling. */
export const STEM = { kernel: 3, stride: 2, outChannels: 32 } as const;

/** Head 1x1 conv of EfficientNet B0-L2: 1280 channels before width scaling. */
export const HEAD_CHANNELS = 1280;

/** Classes of the ImageNet-1k classifier every published checkpoint carries. */
export const IMAGENET_CLASSES = 1000;

type StageRow = Pick<StageSpec, 'kind' | 'kernel' | 'stride' | 'expandRatio' | 'outChannels' | 'repeats'> & Partial<StageSpec>;

/** A stage row with the family's activation and SE ratio filled in; every EfficientNet block skips when shapes match. */
function stages(activation: ActivationName, seRatio: number | null, rows: readonly StageRow[]): readonly StageSpec[] {
  return Object.freeze(rows.map((row) => Object.freeze({ seRatio, activation, residual: 'when-shapes-match' as const, ...row })));
}

const stem = (channels: number, scaled: boolean, activation: ActivationName): EndConvSpec =>
  ({ kernel: 3, stride: 2, channels, scaled, activation });
const head = (channels: number, scaled: boolean, activation: ActivationName): EndConvSpec =>
  ({ kernel: 1, stride: 1, channels, scaled, activation });

/** The EfficientNet B0 stage table (timm `ds_r1_k3_s1_e1_c16_se0.25`, `ir_r2_k3_s2_e6_c24_se0.25`, ...). */
const B0_ROWS: readonly StageRow[] = [
  { kind: 'depthwise-separable', kernel: 3, stride: 1, expandRatio: 1, outChannels: 16, repeats: 1 },
  { kind: 'mbconv', kernel: 3, stride: 2, expandRatio: 6, outChannels: 24, repeats: 2 },
  { kind: 'mbconv', kernel: 5, stride: 2, expandRatio: 6, outChannels: 40, repeats: 2 },
  { kind: 'mbconv', kernel: 3, stride: 2, expandRatio: 6, outChannels: 80, repeats: 3 },
  { kind: 'mbconv', kernel: 5, stride: 1, expandRatio: 6, outChannels: 112, repeats: 3 },
  { kind: 'mbconv', kernel: 5, stride: 2, expandRatio: 6, outChannels: 192, repeats: 4 },
  { kind: 'mbconv', kernel: 3, stride: 1, expandRatio: 6, outChannels: 320, repeats: 1 },
];

export const B0_STAGES: readonly StageSpec[] = stages('swish', SE_RATIO, B0_ROWS);

/** EfficientNet B0-B8 and L2: swish, SE everywhere, every count scaled. */
export const EFFICIENTNET: Topology = Object.freeze({
  family: 'EfficientNet',
  stem: stem(STEM.outChannels, true, 'swish'),
  stages: B0_STAGES,
  head: head(HEAD_CHANNELS, true, 'swish'),
  channelDivisor: 8,
  roundLimit: 0.9,
  fixFirstLastRepeats: false,
});

/**
 * EfficientNet-Lite: B0's stages with no SE and ReLU6 (both friendlier to mobile accelerators
 * and to quantisation), stem 32 and head 1280 never scaled, and the first and last stages'
 * repeats never scaled.
 */
export const EFFICIENTNET_LITE: Topology = Object.freeze({
  family: 'EfficientNet-Lite',
  stem: stem(32, false, 'relu6'),
  stages: stages('relu6', null, B0_ROWS),
  head: head(1280, false, 'relu6'),
  channelDivisor: 8,
  roundLimit: 0.9,
  fixFirstLastRepeats: true,
});

/** An EfficientNetV2 stage table: a 3x3 conv-bn-act stage, two fused-MBConv stages, then MBConv with SE. */
function v2Stages(rows: readonly (readonly [kind: StageSpec['kind'], stride: number, expandRatio: number, outChannels: number, repeats: number])[]): readonly StageSpec[] {
  return stages('swish', null, rows.map(([kind, stride, expandRatio, outChannels, repeats]) => ({
    kind, kernel: 3, stride, expandRatio, outChannels, repeats, seRatio: kind === 'mbconv' ? SE_RATIO : null,
  })));
}

function v2(stemChannels: number, headChannels: number, roundLimit: number, rows: Parameters<typeof v2Stages>[0]): Topology {
  return Object.freeze({
    family: 'EfficientNetV2',
    stem: stem(stemChannels, true, 'swish'),
    stages: v2Stages(rows),
    head: head(headChannels, true, 'swish'),
    channelDivisor: 8,
    roundLimit,
    fixFirstLastRepeats: false,
  });
}

/** EfficientNetV2-B0 (scaled to B1-B3); timm rounds its channels with no 0.9 limit. */
export const EFFICIENTNET_V2_BASE: Topology = v2(32, 1280, 0, [
  ['conv-bn-act', 1, 1, 16, 1],
  ['fused-mbconv', 2, 4, 32, 2],
  ['fused-mbconv', 2, 4, 48, 2],
  ['mbconv', 2, 4, 96, 3],
  ['mbconv', 1, 6, 112, 5],
  ['mbconv', 2, 6, 192, 8],
]);

export const EFFICIENTNET_V2_S: Topology = v2(24, 1280, 0.9, [
  ['conv-bn-act', 1, 1, 24, 2],
  ['fused-mbconv', 2, 4, 48, 4],
  ['fused-mbconv', 2, 4, 64, 4],
  ['mbconv', 2, 4, 128, 6],
  ['mbconv', 1, 6, 160, 9],
  ['mbconv', 2, 6, 256, 15],
]);

export const EFFICIENTNET_V2_M: Topology = v2(24, 1280, 0.9, [
  ['conv-bn-act', 1, 1, 24, 3],
  ['fused-mbconv', 2, 4, 48, 5],
  ['fused-mbconv', 2, 4, 80, 5],
  ['mbconv', 2, 4, 160, 7],
  ['mbconv', 1, 6, 176, 14],
  ['mbconv', 2, 6, 304, 18],
  ['mbconv', 1, 6, 512, 5],
]);

export const EFFICIENTNET_V2_L: Topology = v2(32, 1280, 0.9, [
  ['conv-bn-act', 1, 1, 32, 4],
  ['fused-mbconv', 2, 4, 64, 7],
  ['fused-mbconv', 2, 4, 96, 7],
  ['mbconv', 2, 4, 192, 10],
  ['mbconv', 1, 6, 224, 19],
  ['mbconv', 2, 6, 384, 25],
  ['mbconv', 1, 6, 640, 7],
]);

export const EFFICIENTNET_V2_XL: Topology = v2(32, 1280, 0.9, [
  ['conv-bn-act', 1, 1, 32, 4],
  ['fused-mbconv', 2, 4, 64, 8],
  ['fused-mbconv', 2, 4, 96, 8],
  ['mbconv', 2, 4, 192, 16],
  ['mbconv', 1, 6, 256, 24],
  ['mbconv', 2, 6, 512, 32],
  ['mbconv', 1, 6, 640, 8],
]);

/**
 * timm's own PyTorch-trained V2-S variant (`efficientnetv2_rw_s`): its first stage is a fused
 * block with expansion 1 (a 3x3 conv and a 1x1 projection), its last stage is 272 wide, its head 1792.
 */
export const EFFICIENTNET_V2_RW_S: Topology = v2(24, 1792, 0.9, [
  ['fused-mbconv', 1, 1, 24, 2],
  ['fused-mbconv', 2, 4, 48, 4],
  ['fused-mbconv', 2, 4, 64, 4],
  ['mbconv', 2, 4, 128, 6],
  ['mbconv', 1, 6, 160, 9],
  ['mbconv', 2, 6, 272, 15],
]);
