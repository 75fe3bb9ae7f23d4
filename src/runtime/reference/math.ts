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

/** relu6(x) = min(max(x, 0), 6): EfficientNet-Lite's bounded activation. */
export function referenceRelu6(x: number): number {
  return Math.min(Math.max(x, 0), 6);
}

/** The epilogue activation a conv applies to its biased sum. */
export function referenceActivate(x: number, activation: Activation): number {
  switch (activation) {
    case 'swish': return referenceSwish(x);
    case 'relu6': return referenceRelu6(x);
    case 'relu': return Math.max(x, 0);
    case 'none': return x;
  }
}
