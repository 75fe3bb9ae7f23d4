/**
 * Error bounds for comparing float32 kernels with their float64 twins, and an assertion that
 * reports the worst offending element. Every bound here is derived, not tuned:
 *
 * - A float32 sum of T rounded terms (products included) is within T * 2^-24 * sum|terms| of
 *   the exact sum (the classic recursive-summation bound, first order). We use T * 2^-23: twice
 *   that, which also covers rounding the float64 reference to float32 for storage.
 * - exp, sigmoid and swish have the measured relative errors below; test/runtime/math.test.ts
 *   measures them over dense sweeps and fails if the core ever gets worse.
 */
import { expect } from 'vitest';

/** 2^-23: the gap between 1 and the next float32, twice the unit roundoff. */
export const FLOAT32_EPSILON = 2 ** -23;

/** Max relative error of the core's exp on [-87, 88] (1.23e-7 measured), rounded up. */
export const EXP_RELATIVE_ERROR = 1.3e-7;
/** Max relative error of the core's sigmoid on [-87, 88] (2.02e-7 measured), rounded up. */
export const SIGMOID_RELATIVE_ERROR = 2.2e-7;
/** Max relative error of the core's swish on [-87, 88] (2.42e-7 measured), rounded up. */
export const SWISH_RELATIVE_ERROR = 2.6e-7;

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
 */
export function activationErrorBound(inputBound: number, expected: number, activation: 'none' | 'swish'): number {
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
