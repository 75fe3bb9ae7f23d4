/**
 * The network of the paper's compound rule for one phi, and what it costs: its multipliers and
 * resolution, parameters, multiply-adds and planned activation memory. `efficientnet summary --phi`
 * prints it and the demo's scaling explorer draws it. It joins the architecture (which network)
 * with the plan (how much memory it needs), so it lives above both.
 */
import { buildNetwork, type NetworkSpec } from './arch/network.js';
import {
  compoundCoefficients, compoundCostFactor, compoundScaling, customScaling, MAX_MULTIPLIER, MAX_RESOLUTION, type CompoundCoefficients,
} from './arch/scaling.js';
import { summarizeNetwork, type NetworkSummary } from './arch/summary.js';
import type { ScalingCoefficients } from './arch/variants.js';
import { ConfigError, InputShapeError } from './errors.js';
import { planProgramMemory } from './plan/memory.js';
import { buildProgram } from './plan/program.js';

const FLOAT_BYTES = 4;

export interface CompoundScalingOptions extends Partial<CompoundCoefficients> {
  /** The budget exponent: 0 is B0, each step multiplies the multiply-adds by about `costFactor`. */
  readonly phi: number;
  /** Images per forward pass for the activation memory (default 1); nothing else depends on it. */
  readonly batch?: number;
}

export interface CompoundScalingSummary extends CompoundCoefficients {
  readonly phi: number;
  /** alpha * beta^2 * gamma^2: the multiply-adds' growth per step of phi that the rule aims for (about 2). */
  readonly costFactor: number;
  /** alpha^phi, unrounded: each stage's repeats are this times B0's, rounded up. */
  readonly depth: number;
  /** beta^phi, unrounded: each channel count is this times B0's, rounded to a multiple of 8. */
  readonly width: number;
  /** 224 * gamma^phi, rounded to the nearest pixel. */
  readonly resolution: number;
  readonly batch: number;
  /** The network built from the multipliers: what the counts below describe. */
  readonly network: NetworkSpec;
  readonly blocks: number;
  readonly stemChannels: number;
  readonly headChannels: number;
  /** Trainable parameters, counted as for the published variants. */
  readonly params: number;
  /** Multiply-adds per image at `resolution`. */
  readonly macs: number;
  /** Every stored weight as float32, BN running statistics included. */
  readonly weightBytes: number;
  /** The planned activation arena for `batch` images at `resolution` (the peak of live buffers, packed). */
  readonly activationBytes: number;
  /** The per-layer table behind `params` and `macs`. */
  readonly layers: NetworkSummary['layers'];
}

/**
 * Builds the network of `compoundScaling(phi, { alpha, beta, gamma })` and counts it. Bad numbers
 * raise a ConfigError (phi, a base, or a size beyond the builder's limits) or an InputShapeError
 * (batch) before anything is built.
 */
export function summarizeCompoundScaling(options: CompoundScalingOptions): CompoundScalingSummary {
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new InputShapeError(`batch must be a positive integer, got ${batch}`);
  const bases = compoundCoefficients(options);
  const coefficients = compoundScaling(options.phi, bases);
  const network = buildNetwork(coefficients);
  const { resolution } = coefficients;
  const summary = summarizeNetwork(network, resolution);
  // Padding does not change any buffer size, so either family gives the same plan.
  const activationBytes = planProgramMemory(buildProgram(network, 'same', [batch, 3, resolution, resolution])).bytes;
  return {
    phi: options.phi,
    ...bases,
    costFactor: compoundCostFactor(bases),
    depth: coefficients.depth,
    width: coefficients.width,
    resolution,
    batch,
    network,
    blocks: network.blocks.length,
    stemChannels: network.stemChannels,
    headChannels: network.headChannels,
    params: summary.params,
    macs: summary.macs,
    weightBytes: summary.storedFloats * FLOAT_BYTES,
    activationBytes,
    layers: summary.layers,
  };
}

/** The three knobs of compound scaling, each of which can also be turned alone. */
export type ScalingAxis = 'width' | 'depth' | 'resolution';
export const SCALING_AXES: readonly ScalingAxis[] = ['width', 'depth', 'resolution'];

export interface SingleAxisScaling {
  readonly axis: ScalingAxis;
  /** B0's coefficients with only `axis` changed. */
  readonly coefficients: ScalingCoefficients;
  readonly network: NetworkSpec;
  readonly params: number;
  readonly macs: number;
  /** The multiply-adds asked for; `macs` is the nearest the rounded network gets. */
  readonly targetMacs: number;
}

/** Bisection steps for a width or depth multiplier: 2^-40 of the range is far below any rounding step. */
const MULTIPLIER_STEPS = 40;

/**
 * B0 scaled along one axis only (the others stay 1 and 224) until its multiply-adds are as close
 * as they get to `targetMacs`, e.g. a compound network's: the paper's single-dimension baselines.
 * Counted on the real network, channel and repeat rounding included; multiply-adds never shrink
 * as one knob grows, so a bisection finds the nearest step. Targets below B0's cost are refused.
 */
export function scaleOneAxis(axis: ScalingAxis, targetMacs: number): SingleAxisScaling {
  const b0 = compoundScaling(0);
  const coefficientsAt = (value: number): ScalingCoefficients => customScaling(
    axis === 'width' ? value : b0.width, axis === 'depth' ? value : b0.depth, axis === 'resolution' ? value : b0.resolution,
  );
  const macsAt = (value: number): number => {
    const coefficients = coefficientsAt(value);
    return summarizeNetwork(buildNetwork(coefficients), coefficients.resolution).macs;
  };
  const low = axis === 'resolution' ? b0.resolution : 1;
  const high = axis === 'resolution' ? MAX_RESOLUTION : MAX_MULTIPLIER;
  if (!Number.isFinite(targetMacs) || targetMacs < macsAt(low) || targetMacs > macsAt(high)) {
    throw new ConfigError(`cannot scale ${axis} alone to ${targetMacs} multiply-adds: the range is ${macsAt(low)} (B0) to ${macsAt(high)}`);
  }
  // Invariant: macsAt(below) <= target <= macsAt(above).
  let below = low;
  let above = high;
  if (axis === 'resolution') {
    while (above - below > 1) {
      const middle = Math.floor((below + above) / 2);
      if (macsAt(middle) < targetMacs) below = middle;
      else above = middle;
    }
  } else {
    for (let step = 0; step < MULTIPLIER_STEPS; step++) {
      const middle = (below + above) / 2;
      if (macsAt(middle) < targetMacs) below = middle;
      else above = middle;
    }
  }
  const nearest = targetMacs - macsAt(below) <= macsAt(above) - targetMacs ? below : above;
  // The bisection ends at a long fraction; a short one inside the same rounding step builds the same network.
  const short = Number(nearest.toPrecision(4));
  const value = axis !== 'resolution' && macsAt(short) === macsAt(nearest) ? short : nearest;
  const coefficients = coefficientsAt(value);
  const network = buildNetwork(coefficients);
  const summary = summarizeNetwork(network, coefficients.resolution);
  return { axis, coefficients, network, params: summary.params, macs: summary.macs, targetMacs };
}
