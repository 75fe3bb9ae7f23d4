import { beforeAll, describe, expect, it } from 'vitest';
import type { ReduceExports } from '../../src/runtime/kernels/reduce.js';
import { referenceSumBands } from '../../src/runtime/reference/reduce.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { expectSameBits } from '../support/tolerance.js';

let core: TestCore;
let kernels: ReduceExports;

beforeAll(async () => {
  core = await createTestCore();
  kernels = core.exports as unknown as ReduceExports;
});

function runSumBands(partials: Float32Array, n: number, bands: number, c: number): Float32Array {
  core.reset();
  const input = core.put(partials);
  const output = core.alloc(n * c);
  kernels.sum_bands(input, n, bands, c, output);
  expect(core.get(output + n * c * 4, 16).every((x) => x === 0), 'nothing written past the output').toBe(true);
  return core.get(output, n * c);
}

describe('sum_bands', () => {
  it('adds bands in order with the bits of its scalar twin, for channels in 16-wide tiles, 4-wide vectors and the tail', () => {
    // The twin rounds to float32 after each addition in band order: the kernel must match it
    // exactly, with no tolerance, whatever path a channel takes.
    let seed = 1;
    for (const c of [1, 3, 4, 5, 7, 15, 16, 17, 19, 20, 32, 33, 36, 48, 53]) {
      for (const bands of [1, 2, 3, 7, 16]) {
        for (const n of [1, 2]) {
          // Magnitudes spread over 2^-8 .. 2^8 so the order of the additions changes the rounding.
          const rng = mulberry32(seed++);
          const partials = randomFloats(rng, n * bands * c, 1).map((x) => x * 2 ** Math.round(rng() * 16 - 8));
          expectSameBits(runSumBands(partials, n, bands, c), referenceSumBands(partials, [n, bands, c]), `c=${c} bands=${bands} n=${n}`);
        }
      }
    }
  });

  it('gives a channel the same bits in the scalar tail, a vector and a tile', () => {
    const bands = 5;
    const wide = randomFloats(mulberry32(7), bands * 19, 3); // [bands, 19]: channels 0-15 in a tile, 16-18 in the tail
    const expected = runSumBands(wide, 1, bands, 19);
    for (const keep of [1, 4, 7, 16]) {
      const narrow = wide.filter((_, i) => i % 19 < keep); // [bands, keep]
      expectSameBits(runSumBands(narrow, 1, bands, keep), expected.slice(0, keep), `first ${keep} channels`);
    }
  });

  it('is not the float64 sum: the band order is part of the result', () => {
    // A guard on the twin itself: with these values float32 addition in order loses the small
    // terms, so a twin that summed in float64 (or in another order) would disagree.
    const partials = new Float32Array([2 ** 24, 1, 1, -(2 ** 24)]); // [1, 4, 1]
    expect(referenceSumBands(partials, [1, 4, 1])[0]).toBe(0);
    expect(runSumBands(partials, 1, 4, 1)[0]).toBe(0);
  });
});
