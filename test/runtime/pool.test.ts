import { beforeAll, describe, expect, it } from 'vitest';
import type { PoolExports } from '../../src/runtime/kernels/pool.js';
import { referenceGlobalAveragePool } from '../../src/runtime/reference/pool.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { expectSameBits, expectWithin, sumErrorBound } from '../support/tolerance.js';

let core: TestCore;
let kernels: PoolExports;

beforeAll(async () => {
  core = await createTestCore();
  kernels = core.exports as unknown as PoolExports;
});

function runPool(input: Float32Array, n: number, hw: number, c: number): Float32Array {
  core.reset();
  const output = core.alloc(n * c);
  kernels.global_average_pool(core.put(input), n, hw, c, output);
  expect(core.get(output + n * c * 4, 16).every((x) => x === 0), 'nothing written past the output').toBe(true);
  return core.get(output, n * c);
}

describe('global_average_pool', () => {
  it('matches the reference for every channel count, pixel count and batch size', () => {
    // A mean of hw values: hw rounded additions and one division, so the error is within
    // sumErrorBound(hw + 1, sum|x|) / hw; the sum of |x| / hw is the pool of |x|.
    let seed = 1;
    for (const c of [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 40]) {
      for (const hw of [1, 2, 5, 49, 169]) {
        for (const n of [1, 2]) {
          const input = randomFloats(mulberry32(seed++), n * hw * c, 4);
          const expected = referenceGlobalAveragePool(input, [n, hw, c]);
          const meanAbsolute = referenceGlobalAveragePool(input.map(Math.abs), [n, hw, c]);
          expectWithin(runPool(input, n, hw, c), expected, (i) => sumErrorBound(hw + 1, meanAbsolute[i]), `c=${c} hw=${hw} n=${n}`);
        }
      }
    }
  });

  it('a channel has the same bits in the scalar tail as in a vector lane', () => {
    const hw = 49;
    const wide = randomFloats(mulberry32(9), hw * 8, 4); // [hw, 8]
    const narrow = wide.filter((_, i) => i % 8 < 5); // [hw, 5]: channel 4 moves to the tail
    expectSameBits(runPool(narrow, 1, hw, 5), runPool(wide, 1, hw, 8).slice(0, 5), 'first 5 channels');
  });
});
