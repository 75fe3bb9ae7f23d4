/**
 * Error bounds for comparing float32 kernels with their float64 twins, and an assertion that
 * reports the worst offending element. Every bound here is derived, not tuned:
 *
 * - A float32 sum of T rounded terms (products included) is within T * 2^-24 * sum|terms| of
 *   the exact sum (the classic recursive-summation bound, first order). We use T * 2^-23: twice
 *   that, which also covers rounding the float64 reference to float32 for storage.
 * - exp, sigmoid and swish have the measured relative errors below; test/runtime/math.test.ts
 *   re-measures them over a dense sweep and fails if the core ever gets worse.
 */
import { expect } from 'vitest';

/** 2^-23: the gap between 1 and the next float32, twice the unit roundoff. */
export const FLOAT32_EPSILON = 2 ** -23;

// Max relative errors of the core's exp, sigmoid and swish over every normal float32 in [-87, 88]
// (an exhaustive run over all 2.2e9 of them measured 2.232e-7, 2.746e-7 and 2.926e-7), rounded
// up. They come from the degree-5 exp polynomial (assembly/math.ts explains the choice; degree 6
// measured 1.44e-7, 2.25e-7 and 2.81e-7). Below about -87.3 results under the smallest normal
// float are flushed to 0, so these are relative bounds only where the true result is a normal float.
export const EXP_RELATIVE_ERROR = 2.24e-7;
export const SIGMOID_RELATIVE_ERROR = 2.75e-7;
export const SWISH_RELATIVE_ERROR = 2.93e-7;

/** |swish'(x)| <= 1.0998 everywhere (its maximum, near x = 2.4), so an input error e moves swish(x) by at most 1.1 e. */
export const SWISH_MAX_SLOPE = 1.1;
/** sigmoid'(x) <= 1/4 everywhere, so an input error e moves sigmoid(x) by at most e / 4. */
export const SIGMOID_MAX_SLOPE = 0.25;

/** Bound on the error of a float32 sum of `terms` rounded terms whose absolute values sum to `magnitude`. */
export function sumErrorBound(terms: number, magnitude: number): number {
  return terms * FLOAT32_EPSILON * magnitude;
}

/**
 * Bound after an epilogue activation, given the bound on its input and the reference output:
 * the input error times the activation's slope, plus swish's own rounding relative to its value.
 * ReLU6 and ReLU are clamps: slope at most 1 and exact in float32, so the input bound carries over.
 */
export function activationErrorBound(inputBound: number, expected: number, activation: 'none' | 'swish' | 'relu6' | 'relu'): number {
  return activation === 'swish' ? SWISH_MAX_SLOPE * inputBound + SWISH_RELATIVE_ERROR * Math.abs(expected) : inputBound;
}

/** Asserts |actual[i] - expected[i]| <= bound(i) for every i; a failure names the worst element. */
export function expectWithin(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  bound: (index: number) => number,
  label: string,
): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    const excess = Number.isNaN(error) ? Infinity : error - bound(i);
    if (excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  const detail = worst < 0 ? '' : `index ${worst}: got ${actual[worst]}, expected ${expected[worst]} +- ${bound(worst)}`;
  expect(detail, label).toBe('');
}

/** Asserts two float32 arrays hold identical bit patterns; a failure names the first difference. */
export function expectSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const first = a.findIndex((bits, i) => bits !== b[i]);
  const detail = first < 0 ? '' : `index ${first}: got ${actual[first]}, expected ${expected[first]}`;
  expect(detail, label).toBe('');
}

/**
 * Relaxed-SIMD and deterministic logits differ only by where roundings happen (a fused
 * multiply-add skips the product's rounding): two float32 evaluations of one network. 1e-4 of the
 * largest logit is the budget the cross-check against TensorFlow.js gives two float32
 * implementations; measured between the builds: about 1.2e-6.
 */
export const RELAXED_LOGITS_RELATIVE_TOLERANCE = 1e-4;
