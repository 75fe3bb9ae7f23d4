/**
 * The official members of the family as data: one row per variant with its topology and its
 * scaling coefficients. Everything else (channel widths, block counts, parameter totals) is
 * derived from these rows and the topologies in `stages.ts` by the rules in `scaling.ts`.
 */
import { ConfigError } from '../errors.js';
import {
  EFFICIENTNET, EFFICIENTNET_LITE, EFFICIENTNET_V2_BASE, EFFICIENTNET_V2_L, EFFICIENTNET_V2_M, EFFICIENTNET_V2_RW_S,
  EFFICIENTNET_V2_S, EFFICIENTNET_V2_XL,
} from './stages.js';
import type { Topology } from './topology.js';

/** EfficientNet B0-B8 and L2: the compound-scaled family of the original paper. */
export const COMPOUND_VARIANT_NAMES = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'l2'] as const;
export const LITE_VARIANT_NAMES = ['lite0', 'lite1', 'lite2', 'lite3', 'lite4'] as const;
export const V2_VARIANT_NAMES = ['v2_b0', 'v2_b1', 'v2_b2', 'v2_b3', 'v2_s', 'v2_m', 'v2_l', 'v2_xl', 'v2_rw_s'] as const;

export const VARIANT_NAMES = [...COMPOUND_VARIANT_NAMES, ...LITE_VARIANT_NAMES, ...V2_VARIANT_NAMES] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

export interface ScalingCoefficients {
  /** Multiplier on every scaled channel count (stem, stages, head, as the topology says). */
  readonly width: number;
  /** Multiplier on every scaled stage's repeat count. */
  readonly depth: number;
  /** Native input resolution in pixels (square). */
  readonly resolution: number;
  /** Dropout rate before the classifier; identity at inference, kept for completeness. */
  readonly dropout: number;
}

export interface VariantSpec extends ScalingCoefficients {
  readonly topology: Topology;
}

const row = (topology: Topology, width: number, depth: number, resolution: number, dropout: number): VariantSpec =>
  Object.freeze({ topology, width, depth, resolution, dropout });

/**
 * Official (width, depth, resolution, dropout) per variant, as published with the original
 * weights. Resolutions are the sizes the published checkpoints are evaluated at: for Lite3 and
 * Lite4 timm's 300 and 380 (TensorFlow's own table lists 280 and 300), for V2 timm's and
 * torchvision's test sizes.
 */
export const VARIANTS: Readonly<Record<VariantName, VariantSpec>> = {
  b0: row(EFFICIENTNET, 1.0, 1.0, 224, 0.2),
  b1: row(EFFICIENTNET, 1.0, 1.1, 240, 0.2),
  b2: row(EFFICIENTNET, 1.1, 1.2, 260, 0.3),
  b3: row(EFFICIENTNET, 1.2, 1.4, 300, 0.3),
  b4: row(EFFICIENTNET, 1.4, 1.8, 380, 0.4),
  b5: row(EFFICIENTNET, 1.6, 2.2, 456, 0.4),
  b6: row(EFFICIENTNET, 1.8, 2.6, 528, 0.5),
  b7: row(EFFICIENTNET, 2.0, 3.1, 600, 0.5),
  b8: row(EFFICIENTNET, 2.2, 3.6, 672, 0.5),
  l2: row(EFFICIENTNET, 4.3, 5.3, 800, 0.5),
  lite0: row(EFFICIENTNET_LITE, 1.0, 1.0, 224, 0.2),
  lite1: row(EFFICIENTNET_LITE, 1.0, 1.1, 240, 0.2),
  lite2: row(EFFICIENTNET_LITE, 1.1, 1.2, 260, 0.3),
  lite3: row(EFFICIENTNET_LITE, 1.2, 1.4, 300, 0.3),
  lite4: row(EFFICIENTNET_LITE, 1.4, 1.8, 380, 0.3),
  v2_b0: row(EFFICIENTNET_V2_BASE, 1.0, 1.0, 224, 0.2),
  v2_b1: row(EFFICIENTNET_V2_BASE, 1.0, 1.1, 240, 0.2),
  v2_b2: row(EFFICIENTNET_V2_BASE, 1.1, 1.2, 260, 0.3),
  v2_b3: row(EFFICIENTNET_V2_BASE, 1.2, 1.4, 300, 0.3),
  v2_s: row(EFFICIENTNET_V2_S, 1.0, 1.0, 384, 0.2),
  v2_m: row(EFFICIENTNET_V2_M, 1.0, 1.0, 480, 0.3),
  v2_l: row(EFFICIENTNET_V2_L, 1.0, 1.0, 480, 0.4),
  v2_xl: row(EFFICIENTNET_V2_XL, 1.0, 1.0, 512, 0.4),
  v2_rw_s: row(EFFICIENTNET_V2_RW_S, 1.0, 1.0, 384, 0.2),
};

export function isVariantName(name: string): name is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(name);
}

/** The variant names as a user reads them in an error message. */
export const VARIANT_LIST = 'b0 … b8, l2, lite0 … lite4, v2_b0 … v2_b3, v2_s, v2_m, v2_l, v2_xl, v2_rw_s';

export function variantCoefficients(name: string): VariantSpec {
  if (!isVariantName(name)) {
    throw new ConfigError(`unknown variant "${name}": expected one of ${VARIANT_NAMES.join(', ')}`);
  }
  return VARIANTS[name];
}

/** How papers write a variant: `EfficientNet-B0`, `EfficientNet-Lite0`, `EfficientNetV2-S`, `EfficientNetV2-B0`, `EfficientNetV2-rw-S`. */
export function variantTitle(name: VariantName): string {
  if (name.startsWith('lite')) return `EfficientNet-Lite${name.slice(4)}`;
  if (name === 'v2_rw_s') return 'EfficientNetV2-rw-S';
  if (name.startsWith('v2_')) return `EfficientNetV2-${name.slice(3).toUpperCase()}`;
  return `EfficientNet-${name.toUpperCase()}`;
}
