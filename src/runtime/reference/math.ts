/**
 * Activations as their textbook definitions, in float64 with Math.exp. In doubles,
 * 1 / (1 + e^-x) needs no care: e^-x overflowing to Infinity gives exactly 0.
 */
import type { Activation } from '../../plan/program.js';

/** sigmoid(x) = 1 / (1 + e^-x). */
export function referenceSigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** swish(x) = x * sigmoid(x), also called SiLU. */
export function referenceSwish(x: number): number {
  return x * referenceSigmoid(x);
}

/** The epilogue activation a conv applies to its biased sum. */
export function referenceActivate(x: number, activation: Activation): number {
  return activation === 'swish' ? referenceSwish(x) : x;
}
