/**
 * A network's topology as data: the stem, a list of stages (each one block description repeated),
 * and the head, with the rules that turn width and depth multipliers into concrete channel and
 * repeat counts. Every builder (the layer list, the forward program, the ONNX exporter, the
 * synthetic weights, the diagrams) walks the blocks `buildNetwork` decodes from this, so a new
 * member of the family is a new row of data, not new code paths.
 *
 * The block kinds are timm's (`timm/models/_efficientnet_blocks.py`), named for what they compute:
 *
 * | kind                  | timm         | layers (timm module names)                                        |
 * | --------------------- | ------------ | ----------------------------------------------------------------- |
 * | `conv-bn-act`         | ConvBnAct    | `conv` kxk + `bn1` + act                                          |
 * | `depthwise-separable` | DS conv      | `conv_dw` kxk + `bn1` + act, [SE], `conv_pw` 1x1 + `bn2`          |
 * | `mbconv`              | InvertedRes. | `conv_pw` 1x1 + `bn1` + act, `conv_dw` kxk + `bn2` + act, [SE], `conv_pwl` 1x1 + `bn3` |
 * | `fused-mbconv`        | EdgeResidual | `conv_exp` kxk + `bn1` + act, [SE], `conv_pwl` 1x1 + `bn2`        |
 */

/** What one block computes; see the table above. */
export type BlockKind = 'conv-bn-act' | 'depthwise-separable' | 'mbconv' | 'fused-mbconv';

export const BLOCK_KINDS: readonly BlockKind[] = ['conv-bn-act', 'depthwise-separable', 'mbconv', 'fused-mbconv'];

/**
 * The activation a conv's epilogue applies. `swish` is x * sigmoid(x) (SiLU), `relu6` is
 * min(max(x, 0), 6) (EfficientNet-Lite: bounded, so it quantises well), `relu` is max(x, 0).
 */
export type ActivationName = 'swish' | 'relu6' | 'relu';

export const ACTIVATION_NAMES: readonly ActivationName[] = ['swish', 'relu6', 'relu'];

/**
 * When a block adds its input to its output. `when-shapes-match`: stride 1 and equal in and out
 * channels (every EfficientNet block); `never`: no skip at all (timm's `noskip`).
 */
export type ResidualRule = 'when-shapes-match' | 'never';

/** One stage: a block description and how many times it repeats before depth scaling. */
export interface StageSpec {
  readonly kind: BlockKind;
  /** Spatial kernel size (square): the depthwise conv, or the full conv of `conv-bn-act` and `fused-mbconv`. */
  readonly kernel: number;
  /** Stride of the stage's first block; later blocks use stride 1. */
  readonly stride: number;
  /** Expansion ratio (1 for `conv-bn-act` and `depthwise-separable`, which have none). */
  readonly expandRatio: number;
  /** Output channels before width scaling. */
  readonly outChannels: number;
  /** Blocks in the stage before depth scaling. */
  readonly repeats: number;
  /**
   * Squeeze-and-excitation bottleneck as a fraction of the block's input channels (before
   * expansion; timm's `se_from_exp=False`, torchvision's `input_channels // 4`), or null for none.
   */
  readonly seRatio: number | null;
  readonly activation: ActivationName;
  readonly residual: ResidualRule;
}

/** The stem conv (kxk over the RGB input) or the head's 1x1 conv. */
export interface EndConvSpec {
  readonly kernel: number;
  readonly stride: number;
  /** Channels before width scaling. */
  readonly channels: number;
  /** Whether the width multiplier applies (EfficientNet-Lite fixes stem 32 and head 1280). */
  readonly scaled: boolean;
  readonly activation: ActivationName;
}

export interface Topology {
  /** Short name of the family the topology belongs to, for titles: `EfficientNet`, `EfficientNet-Lite`, `EfficientNetV2`. */
  readonly family: string;
  readonly stem: EndConvSpec;
  readonly stages: readonly StageSpec[];
  readonly head: EndConvSpec;
  /** Channel counts are rounded to multiples of this. */
  readonly channelDivisor: number;
  /**
   * After rounding, a channel count below this fraction of the scaled value gets one more
   * divisor added (0.9 in EfficientNet and Lite; 0, meaning never, in timm's EfficientNetV2).
   */
  readonly roundLimit: number;
  /** Keep the first and last stages' repeat counts unscaled (EfficientNet-Lite). */
  readonly fixFirstLastRepeats: boolean;
}
