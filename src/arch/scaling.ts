/**
 * Compound scaling rules: how a (width, depth) pair turns B0's channel and repeat counts into a
 * larger network. Each rule is one small function so it can be read, tested and reused alone.
 */
import { ConfigError } from '../errors.js';
import type { ScalingCoefficients } from './variants.js';

/** Channel counts are kept multiples of this so SIMD tiles and the original TPU layouts line up. */
export const CHANNEL_DIVISOR = 8;

/** Rounding may lose at most this share of a scaled width before a divisor is added back. */
export const ROUND_LIMIT = 0.9;

/**
 * Scales a channel count by `width` and rounds to the nearest multiple of 8 (never below 8). If
 * rounding left less than `roundLimit` of the scaled width (90% by default), one more step of 8 is
 * added back, so narrow layers do not shrink disproportionately. A limit of 0 never adds one
 * (timm's EfficientNetV2-B*).
 */
export function roundChannels(channels: number, width: number, divisor = CHANNEL_DIVISOR, roundLimit = ROUND_LIMIT): number {
  const scaled = channels * width;
  let rounded = Math.max(divisor, Math.floor((scaled + divisor / 2) / divisor) * divisor);
  if (rounded < roundLimit * scaled) rounded += divisor;
  return rounded;
}

/** Scales a stage's repeat count by `depth`, rounding up so no stage ever loses its only block. */
export function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(depth * repeats);
}

/** Width of the squeeze-and-excitation bottleneck: a fraction of the block's input channels. */
export function squeezeChannels(blockInputChannels: number, ratio: number): number {
  return Math.max(1, Math.floor(blockInputChannels * ratio));
}

/**
 * Any (width, depth, resolution) as a custom family member, for experiments beyond the table.
 * Validates the numbers so a typo fails here rather than as a strange network later.
 */
export function customScaling(width: number, depth: number, resolution: number, dropout = 0.2): ScalingCoefficients {
  for (const [name, value] of [['width', width], ['depth', depth]] as const) {
    if (!Number.isFinite(value) || value <= 0 || value > 64) {
      throw new ConfigError(`${name} multiplier must be a positive number up to 64, got ${value}`);
    }
  }
  if (!Number.isInteger(resolution) || resolution < 1 || resolution > 8192) {
    throw new ConfigError(`resolution must be an integer between 1 and 8192, got ${resolution}`);
  }
  return { width, depth, resolution, dropout };
}

/**
 * The paper's compound rule (Tan & Le 2019, eq. 3): depth = alpha^phi, width = beta^phi,
 * resolution = gamma^phi * 224, with alpha 1.2, beta 1.1, gamma 1.15 found by grid search on B0.
 * NOTE: the published B1-B7 were NOT produced by this formula (their coefficients were further
 * hand-tuned); use `VARIANTS` for the official networks. This is for exploring the rule itself.
 */
export const PAPER_COMPOUND = { alpha: 1.2, beta: 1.1, gamma: 1.15, baseResolution: 224 } as const;

export function compoundScaling(phi: number): ScalingCoefficients {
  if (!Number.isFinite(phi) || phi < 0 || phi > 12) {
    throw new ConfigError(`phi must be a number between 0 and 12, got ${phi}`);
  }
  const { alpha, beta, gamma, baseResolution } = PAPER_COMPOUND;
  return customScaling(beta ** phi, alpha ** phi, Math.round(baseResolution * gamma ** phi));
}
