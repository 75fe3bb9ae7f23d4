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

/** Largest width or depth multiplier a custom member may have (L2, the largest published, is 4.3 and 5.3). */
export const MAX_MULTIPLIER = 64;
/** Largest native resolution of a custom member: the planner's largest input side. */
export const MAX_RESOLUTION = 8192;

/**
 * Any (width, depth, resolution) as a custom family member, for experiments beyond the table.
 * Validates the numbers so a typo fails here rather than as a strange network later.
 */
export function customScaling(width: number, depth: number, resolution: number, dropout = 0.2): ScalingCoefficients {
  for (const [name, value] of [['width', width], ['depth', depth]] as const) {
    if (!Number.isFinite(value) || value <= 0 || value > MAX_MULTIPLIER) {
      throw new ConfigError(`${name} multiplier must be a positive number up to ${MAX_MULTIPLIER}, got ${value}`);
    }
  }
  if (!Number.isInteger(resolution) || resolution < 1 || resolution > MAX_RESOLUTION) {
    throw new ConfigError(`resolution must be an integer between 1 and ${MAX_RESOLUTION}, got ${resolution}`);
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

/** The three bases of the compound rule: depth, width and resolution multipliers per unit of phi. */
export interface CompoundCoefficients {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

/** Largest phi accepted: phi 12 with the paper's bases is depth 8.9, width 3.1 and 1,197 pixels. */
export const MAX_PHI = 12;
/** Largest base accepted; the paper's grid search stayed between 1 and 2. */
export const MAX_COMPOUND_BASE = 4;

/**
 * How much one step of phi multiplies the multiply-adds: depth once, width and resolution squared
 * (a 1x1 convolution costs input x output channels per pixel, and pixels grow with the side
 * squared). The paper constrains it to about 2 (eq. 3).
 */
export function compoundCostFactor({ alpha, beta, gamma }: CompoundCoefficients): number {
  return alpha * beta ** 2 * gamma ** 2;
}

/**
 * The paper's bases with any of them overridden (an absent or undefined one keeps the paper's), each checked to be a finite number from 1 (the
 * paper's constraint: scaling never shrinks B0) to MAX_COMPOUND_BASE.
 */
export function compoundCoefficients(overrides: Partial<CompoundCoefficients> = {}): CompoundCoefficients {
  const chosen = {
    alpha: overrides.alpha ?? PAPER_COMPOUND.alpha, beta: overrides.beta ?? PAPER_COMPOUND.beta, gamma: overrides.gamma ?? PAPER_COMPOUND.gamma,
  };
  const knobs = [['alpha', 'depth'], ['beta', 'width'], ['gamma', 'resolution']] as const;
  for (const [name, axis] of knobs) {
    const value = chosen[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > MAX_COMPOUND_BASE) {
      throw new ConfigError(`${name} (the ${axis} base) must be a number from 1 to ${MAX_COMPOUND_BASE}, got ${value}: ` +
        'the compound rule only grows B0, so every base is at least 1');
    }
  }
  return { alpha: chosen.alpha, beta: chosen.beta, gamma: chosen.gamma };
}

/**
 * The network's multipliers for a budget exponent `phi` (0 is B0 itself): depth alpha^phi, width
 * beta^phi, resolution gamma^phi * 224 rounded to the nearest pixel. Channels and repeats are then
 * rounded by `roundChannels` and `roundRepeats` when the network is built, exactly as for the
 * official variants. Throws a ConfigError before anything is built when phi or a base is out of
 * range, or when the result passes `customScaling`'s limits (saying which knob to lower).
 */
export function compoundScaling(phi: number, bases: Partial<CompoundCoefficients> = {}): ScalingCoefficients {
  if (typeof phi !== 'number' || !Number.isFinite(phi) || phi < 0 || phi > MAX_PHI) {
    throw new ConfigError(`phi must be a number from 0 (B0) to ${MAX_PHI}, got ${phi}`);
  }
  const { alpha, beta, gamma } = compoundCoefficients(bases);
  const depth = alpha ** phi;
  const width = beta ** phi;
  const resolution = Math.round(PAPER_COMPOUND.baseResolution * gamma ** phi);
  const tooLarge = [
    ['depth', depth, MAX_MULTIPLIER, 'alpha'], ['width', width, MAX_MULTIPLIER, 'beta'], ['resolution', resolution, MAX_RESOLUTION, 'gamma'],
  ] as const;
  for (const [axis, value, limit, base] of tooLarge) {
    if (value > limit) {
      throw new ConfigError(`phi ${phi} gives ${axis} ${Number(value.toFixed(2))}, above the largest ${limit} this library builds: ` +
        `lower phi or ${base}`);
    }
  }
  return customScaling(width, depth, resolution);
}
