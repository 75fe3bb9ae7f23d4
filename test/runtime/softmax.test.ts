import { beforeAll, describe, expect, it } from 'vitest';
import type { SoftmaxExports } from '../../src/runtime/kernels/softmax.js';
import { referenceSoftmax } from '../../src/runtime/reference/softmax.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { EXP_RELATIVE_ERROR, FLOAT32_EPSILON, expectSameBits, expectWithin, sumErrorBound } from '../support/tolerance.js';

let core: TestCore;
let kernels: SoftmaxExports;

beforeAll(async () => {
  core = await createTestCore();
  kernels = core.exports as unknown as SoftmaxExports;
});

function runSoftmax(input: Float32Array, rows: number, cols: number): Float32Array {
  core.reset();
  const output = core.alloc(rows * cols);
  kernels.softmax(core.put(input), rows, cols, output);
  return core.get(output, rows * cols);
}

/**
 * Relative error of p_i = e_i / sum:
 * - e_i = exp(x_i - max): the subtraction rounds by up to 2^-24 |x_i - max| in the exponent,
 *   which is that much relative error in e_i, plus exp's own relative error;
 * - the sum adds cols terms each carrying exp's error: sumErrorBound(cols, 1) + exp's error
 *   relative to the sum (the terms are positive, so sum|terms| is the sum);
 * - the division rounds once more (2^-23 also covers storing the reference in float32).
 */
function softmaxBounds(input: Float32Array, expected: Float32Array, rows: number, cols: number): Float64Array {
  const bounds = new Float64Array(rows * cols);
  for (let row = 0; row < rows; row++) {
    const values = input.subarray(row * cols, (row + 1) * cols);
    const max = values.reduce((a, b) => Math.max(a, b), -Infinity);
    const sumRelative = sumErrorBound(cols, 1) + EXP_RELATIVE_ERROR;
    for (let i = 0; i < cols; i++) {
      const termRelative = (FLOAT32_EPSILON / 2) * Math.abs(values[i] - max) + EXP_RELATIVE_ERROR;
      bounds[row * cols + i] = expected[row * cols + i] * (termRelative + sumRelative + FLOAT32_EPSILON);
    }
  }
  return bounds;
}

describe('softmax', () => {
  it('matches the reference for row lengths around the vector width and a classifier-sized row', () => {
    let seed = 1;
    for (const cols of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 1000, 1001]) {
      for (const rows of [1, 3]) {
        const input = randomFloats(mulberry32(seed++), rows * cols, 8);
        const expected = referenceSoftmax(input, rows, cols);
        const bounds = softmaxBounds(input, expected, rows, cols);
        expectWithin(runSoftmax(input, rows, cols), expected, (i) => bounds[i], `rows=${rows} cols=${cols}`);
      }
    }
  });

  it('is stable for large logits: shifting a row by 1000 changes nothing beyond rounding', () => {
    const cols = 37;
    const input = randomFloats(mulberry32(5), cols, 10);
    const shifted = input.map((x) => x + 1000);
    const output = runSoftmax(shifted, 1, cols);
    expect(output.every(Number.isFinite)).toBe(true);
    const expected = referenceSoftmax(shifted, 1, cols);
    const bounds = softmaxBounds(shifted, expected, 1, cols);
    expectWithin(output, expected, (i) => bounds[i], 'shifted');
  });

  it('rows sum to 1 within the rounding of cols additions', () => {
    const rows = 4;
    const cols = 1000;
    const output = runSoftmax(randomFloats(mulberry32(6), rows * cols, 8), rows, cols);
    for (let row = 0; row < rows; row++) {
      const total = output.subarray(row * cols, (row + 1) * cols).reduce((a, b) => a + b, 0);
      expect(Math.abs(total - 1)).toBeLessThanOrEqual(sumErrorBound(cols + 2, 1) + EXP_RELATIVE_ERROR);
    }
  });

  it('works in place (output aliasing input)', () => {
    const rows = 2;
    const cols = 11;
    const input = randomFloats(mulberry32(8), rows * cols, 4);
    core.reset();
    const buffer = core.put(input);
    kernels.softmax(buffer, rows, cols, buffer);
    expectSameBits(core.get(buffer, rows * cols), runSoftmax(input, rows, cols), 'in place');
  });
});
