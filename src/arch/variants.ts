/**
 * The official EfficientNet family as data: one row per variant with its compound-scaling
 * coefficients. Everything else (channel widths, block counts, parameter totals) is derived
 * from these rows and the B0 stage table by the rules in `scaling.ts`.
 */
import { ConfigError } from '../errors.js';

export const VARIANT_NAMES = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'l2'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

export interface ScalingCoefficients {
  /** Multiplier on every channel count (stem, stages, head). */
  readonly width: number;
  /** Multiplier on every stage's repeat count. */
  readonly depth: number;
  /** Native input resolution in pixels (square). */
  readonly resolution: number;
  /** Dropout rate before the classifier; identity at inference, kept for completeness. */
  readonly dropout: number;
}

/** Official (width, depth, resolution, dropout) per variant, as published with the original weights. */
export const VARIANTS: Readonly<Record<VariantName, ScalingCoefficients>> = {
  b0: { width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2 },
  b1: { width: 1.0, depth: 1.1, resolution: 240, dropout: 0.2 },
  b2: { width: 1.1, depth: 1.2, resolution: 260, dropout: 0.3 },
  b3: { width: 1.2, depth: 1.4, resolution: 300, dropout: 0.3 },
  b4: { width: 1.4, depth: 1.8, resolution: 380, dropout: 0.4 },
  b5: { width: 1.6, depth: 2.2, resolution: 456, dropout: 0.4 },
  b6: { width: 1.8, depth: 2.6, resolution: 528, dropout: 0.5 },
  b7: { width: 2.0, depth: 3.1, resolution: 600, dropout: 0.5 },
  b8: { width: 2.2, depth: 3.6, resolution: 672, dropout: 0.5 },
  l2: { width: 4.3, depth: 5.3, resolution: 800, dropout: 0.5 },
};

export function isVariantName(name: string): name is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(name);
}

export function variantCoefficients(name: string): ScalingCoefficients {
  if (!isVariantName(name)) {
    throw new ConfigError(`unknown variant "${name}": expected one of ${VARIANT_NAMES.join(', ')}`);
  }
  return VARIANTS[name];
}
