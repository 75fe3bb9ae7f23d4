import { beforeAll, describe, expect, it } from 'vitest';
import { resampleFilterCode, type ResizeKernels } from '../../src/image/preprocess.js';
import {
  PRECISION_BITS, resampleCoefficients, resampleHorizontalRgb8, resampleVerticalRgb8, resizeRgb8, rgb8NormalizeToNchw,
  type AxisCoefficients, type ResampleFilter,
} from '../../src/runtime/reference/resize.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { mulberry32 } from '../support/random.js';
import { expectSameBits } from '../support/tolerance.js';
import { decodeImage } from '../../src/image/decode.js';
import { expectSameBytes, FIXTURES, goldenResizes, randomImage, readRepoFile } from './support.js';

// Everything here is integer arithmetic on weights computed in float64 by the same operations,
// or float32 normalisation by the same three roundings: the core must equal its twin bit for bit.

let core: TestCore;
let kernels: ResizeKernels;

beforeAll(async () => {
  core = await createTestCore();
  kernels = core.exports as unknown as ResizeKernels;
});

const FILTERS: readonly ResampleFilter[] = ['bilinear', 'bicubic'];

/** Copies bytes in, followed by the 4 spare bytes the horizontal pass may read past RGB input. */
function putBytes(bytes: Uint8Array): number {
  const offset = core.alloc(Math.ceil(bytes.length / 4) + 1);
  new Uint8Array(core.exports.memory.buffer, offset, bytes.length).set(bytes);
  return offset;
}
function putInts(values: Int32Array): number {
  const offset = core.alloc(values.length);
  new Int32Array(core.exports.memory.buffer, offset, values.length).set(values);
  return offset;
}
const getBytes = (offset: number, length: number): Uint8Array => new Uint8Array(core.exports.memory.buffer, offset, length).slice();
const getInts = (offset: number, length: number): Int32Array => new Int32Array(core.exports.memory.buffer, offset, length).slice();

/** The core's tables for output indices [first, first + count). */
function coreCoefficients(inSize: number, outSize: number, filter: ResampleFilter, first = 0, count = outSize): AxisCoefficients & { boundsPtr: number; weightsPtr: number } {
  const code = resampleFilterCode(kernels, filter);
  const taps = kernels.resample_taps(inSize, outSize, code);
  const boundsPtr = core.alloc(count * 2);
  const weightsPtr = core.alloc(count * taps);
  kernels.resample_coefficients(inSize, outSize, first, count, code, boundsPtr, weightsPtr);
  return { taps, bounds: getInts(boundsPtr, count * 2), weights: getInts(weightsPtr, count * taps), boundsPtr, weightsPtr };
}

/** A whole resize with the core's kernels: every row horizontally, then vertically. */
function coreResize(data: Uint8Array, width: number, height: number, outWidth: number, outHeight: number, filter: ResampleFilter): Uint8Array {
  const columns = coreCoefficients(width, outWidth, filter);
  const rows = coreCoefficients(height, outHeight, filter);
  const input = putBytes(data);
  const horizontal = core.alloc(Math.ceil((height * outWidth * 3) / 4));
  kernels.resample_horizontal_rgb8(input, 3, height, width, outWidth, columns.taps, columns.boundsPtr, columns.weightsPtr, horizontal);
  const output = core.alloc(Math.ceil((outHeight * outWidth * 3) / 4));
  kernels.resample_vertical_rgb8(horizontal, 0, outWidth, outHeight, rows.taps, rows.boundsPtr, rows.weightsPtr, output);
  return getBytes(output, outHeight * outWidth * 3);
}

/**
 * Pillow's horizontal loop (ImagingResampleHorizontal_8bpc), restated: for each channel of each
 * output pixel, one half plus each tap's byte times its weight, floored by the shift and clamped.
 * input: [rows, inWidth, pixelBytes] u8 (a 4th byte is skipped) -> [rows, outWidth, 3] u8.
 */
function pillowHorizontal(input: Uint8Array, pixelBytes: number, rows: number, inWidth: number, axis: AxisCoefficients): Uint8Array {
  const outWidth = axis.bounds.length / 2;
  const output = new Uint8Array(rows * outWidth * 3); // [rows, outWidth, 3]
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < outWidth; x++) {
      const [low, length] = [axis.bounds[2 * x], axis.bounds[2 * x + 1]];
      for (let c = 0; c < 3; c++) {
        let sum = 1 << (PRECISION_BITS - 1);
        for (let t = 0; t < length; t++) sum += input[(y * inWidth + low + t) * pixelBytes + c] * axis.weights[x * axis.taps + t];
        output[(y * outWidth + x) * 3 + c] = Math.min(255, Math.max(0, sum >> PRECISION_BITS));
      }
    }
  }
  return output;
}

describe('shared constants', () => {
  it('reads the fixed-point precision and two distinct filter codes from the instance', () => {
    expect(Number(kernels.RESAMPLE_PRECISION_BITS.value)).toBe(PRECISION_BITS);
    expect(resampleFilterCode(kernels, 'bicubic')).not.toBe(resampleFilterCode(kernels, 'bilinear'));
  });
});

describe('resample_coefficients', () => {
  const sizes = [1, 2, 3, 5, 7, 16, 31, 100, 257];
  for (const filter of FILTERS) {
    it(`${filter}: equals the twin for every pair of sizes in ${sizes.join(', ')} (shrinking, enlarging, equal)`, () => {
      for (const inSize of sizes) {
        for (const outSize of sizes) {
          core.reset();
          const ours = coreCoefficients(inSize, outSize, filter);
          const twin = resampleCoefficients(inSize, outSize, filter);
          const label = `${inSize} -> ${outSize}`;
          expect(ours.taps, label).toBe(twin.taps);
          expect(Array.from(ours.bounds), label).toEqual(Array.from(twin.bounds));
          expect(Array.from(ours.weights), label).toEqual(Array.from(twin.weights));
        }
      }
    });

    it(`${filter}: windows lie inside the input, start monotonically, and weights sum to 2^22 within the rounding of each tap`, () => {
      for (const [inSize, outSize] of [[1, 9], [9, 1], [300, 331], [600, 213], [613, 256], [4000, 7]]) {
        const { taps, bounds, weights } = resampleCoefficients(inSize, outSize, filter);
        let previousStart = 0;
        for (let i = 0; i < outSize; i++) {
          const [start, length] = [bounds[2 * i], bounds[2 * i + 1]];
          expect(start, `${inSize} -> ${outSize} window ${i}`).toBeGreaterThanOrEqual(previousStart);
          expect(length).toBeGreaterThan(0);
          expect(length).toBeLessThanOrEqual(taps);
          expect(start + length).toBeLessThanOrEqual(inSize);
          previousStart = start;
          let sum = 0;
          for (let t = 0; t < taps; t++) sum += weights[i * taps + t];
          // Each weight is rounded to the nearest integer: at most 1/2 off, so the sum is within length/2.
          expect(Math.abs(sum - 2 ** PRECISION_BITS)).toBeLessThanOrEqual(length / 2);
        }
      }
    });

    it(`${filter}: a slice [first, first + count) equals those rows of the full table`, () => {
      for (const [inSize, outSize, first, count] of [[451, 384, 80, 224], [300, 331, 16, 300], [7, 20, 19, 1], [20, 7, 0, 7]]) {
        core.reset();
        const slice = coreCoefficients(inSize, outSize, filter, first, count);
        const full = resampleCoefficients(inSize, outSize, filter);
        expect(Array.from(slice.bounds)).toEqual(Array.from(full.bounds.subarray(first * 2, (first + count) * 2)));
        expect(Array.from(slice.weights)).toEqual(Array.from(full.weights.subarray(first * full.taps, (first + count) * full.taps)));
      }
    });
  }
});

describe('resample_horizontal_rgb8 and resample_vertical_rgb8', () => {
  // Widths 1 and 5 leave the vertical pass no full 16-byte vector (3 and 15 bytes a row); 6, 16
  // and 33 give one or more vectors plus a scalar tail; heights and widths include 1.
  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1], [1, 1, 5, 3], [5, 3, 1, 1], [5, 4, 6, 9], [16, 16, 16, 16], [17, 9, 33, 5], [40, 30, 6, 7], [33, 61, 16, 100],
  ];
  let seed = 100;
  for (const filter of FILTERS) {
    for (const [width, height, outWidth, outHeight] of shapes) {
      it(`${filter}: ${width}x${height} -> ${outWidth}x${outHeight} equals the twin in each pass`, () => {
        core.reset();
        const image = randomImage(width, height, seed++);
        const columns = resampleCoefficients(width, outWidth, filter);
        const rows = resampleCoefficients(height, outHeight, filter);
        const expectedHorizontal = resampleHorizontalRgb8(image.data, height, width, columns);
        const expected = resampleVerticalRgb8(expectedHorizontal, 0, outWidth, rows);
        expectSameBytes(coreResize(image.data, width, height, outWidth, outHeight, filter), expected, 'both passes');
        expectSameBytes(resizeRgb8(image.data, width, height, outWidth, outHeight, filter), expected, 'twin resizeRgb8');
      });
    }
  }

  // The horizontal pass sums each pixel's R, G and B in the lanes of one vector, four taps to a
  // 16-byte load and the rest one at a time; the twin is Pillow's loop, one channel and one tap at
  // a time. Output widths 1-9 and up to twice the input give windows of every length mod 4; input
  // widths 1-23 put each row's end at every alignment to 16 bytes, for 3- and 4-byte pixels.
  for (const filter of FILTERS) {
    for (const pixelBytes of [3, 4] as const) {
      it(`${filter}: the horizontal pass equals Pillow's scalar loop on ${pixelBytes}-byte pixels for every input width 1-23 and many output widths`, () => {
        const rng = mulberry32(pixelBytes * 10 + (filter === 'bicubic' ? 1 : 0));
        const rows = 3;
        for (let inWidth = 1; inWidth <= 23; inWidth++) {
          for (const outWidth of new Set([1, 2, 3, 4, 5, 6, 7, 9, Math.max(1, inWidth >> 2), inWidth - 1 || 1, inWidth, inWidth + 1, 2 * inWidth])) {
            core.reset();
            const pixels = new Uint8Array(rows * inWidth * pixelBytes).map(() => (rng() < 0.2 ? (rng() < 0.5 ? 0 : 255) : Math.floor(rng() * 256))); // [rows, inWidth, pixelBytes]
            const columns = coreCoefficients(inWidth, outWidth, filter);
            const input = putBytes(pixels);
            const outBytes = rows * outWidth * 3;
            const output = core.alloc(Math.ceil(outBytes / 4) + 1); // [rows, outWidth, 3] u8, then a guard word
            new Uint8Array(core.exports.memory.buffer, output, outBytes + 4).fill(0xa5);
            kernels.resample_horizontal_rgb8(input, pixelBytes, rows, inWidth, outWidth, columns.taps, columns.boundsPtr, columns.weightsPtr, output);
            const label = `${inWidth} -> ${outWidth}`;
            expectSameBytes(getBytes(output, outBytes), pillowHorizontal(pixels, pixelBytes, rows, inWidth, columns), label);
            expect(Array.from(getBytes(output + outBytes, 4)), `${label}: nothing written past the output`).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);
          }
        }
      });
    }
  }

  it('on wide rows too: 613 and 1000 pixels to sizes around the crop sizes, both pixel sizes', () => {
    for (const filter of FILTERS) {
      for (const pixelBytes of [3, 4] as const) {
        for (const [inWidth, outWidth] of [[613, 256], [613, 224], [1000, 331], [1000, 97], [97, 1000]]) {
          core.reset();
          const rng = mulberry32(inWidth + outWidth);
          const pixels = new Uint8Array(2 * inWidth * pixelBytes).map(() => Math.floor(rng() * 256)); // [2, inWidth, pixelBytes]
          const columns = coreCoefficients(inWidth, outWidth, filter);
          const output = core.alloc(Math.ceil((2 * outWidth * 3) / 4)); // [2, outWidth, 3] u8
          kernels.resample_horizontal_rgb8(putBytes(pixels), pixelBytes, 2, inWidth, outWidth, columns.taps, columns.boundsPtr, columns.weightsPtr, output);
          expectSameBytes(getBytes(output, 2 * outWidth * 3), pillowHorizontal(pixels, pixelBytes, 2, inWidth, columns), `${filter} ${pixelBytes} ${inWidth} -> ${outWidth}`);
        }
      }
    }
  });

  it('the vertical pass reads rows relative to first_row, so a band of source rows gives the same output rows', () => {
    core.reset();
    const [width, height, outHeight] = [13, 50, 12];
    const image = randomImage(width, height, 7);
    const rows = resampleCoefficients(height, outHeight, 'bicubic', 4, 5); // output rows 4..8
    const firstRow = rows.bounds[0];
    const endRow = rows.bounds[8] + rows.bounds[9];
    const band = putBytes(image.data.subarray(firstRow * width * 3, endRow * width * 3));
    const boundsPtr = putInts(rows.bounds);
    const weightsPtr = putInts(rows.weights);
    const output = core.alloc(Math.ceil((5 * width * 3) / 4));
    kernels.resample_vertical_rgb8(band, firstRow, width, 5, rows.taps, boundsPtr, weightsPtr, output);
    const full = resampleVerticalRgb8(image.data, 0, width, resampleCoefficients(height, outHeight, 'bicubic'));
    expectSameBytes(getBytes(output, 5 * width * 3), full.subarray(4 * width * 3, 9 * width * 3), 'band');
  });

  for (const filter of FILTERS) {
    it(`${filter}: resizing to the same size is the identity (why running a pass Pillow skips changes nothing)`, () => {
      core.reset();
      const image = randomImage(23, 11, 5);
      expectSameBytes(coreResize(image.data, 23, 11, 23, 11, filter), image.data, 'core');
      expectSameBytes(resizeRgb8(image.data, 23, 11, 23, 11, filter), image.data, 'twin');
    });
  }
});

describe('against Pillow on noise images at awkward sizes', () => {
  for (const r of goldenResizes()) {
    it(`${r.width}x${r.height} -> ${r.outWidth}x${r.outHeight} ${r.interpolation}: core and twin give Pillow's bytes`, async () => {
      core.reset();
      const source = await decodeImage(readRepoFile(`${FIXTURES}${r.source}`));
      const golden = await decodeImage(readRepoFile(`${FIXTURES}${r.golden}`));
      expectSameBytes(coreResize(source.data, r.width, r.height, r.outWidth, r.outHeight, r.interpolation), golden.data, 'core');
      expectSameBytes(resizeRgb8(source.data, r.width, r.height, r.outWidth, r.outHeight, r.interpolation), golden.data, 'twin');
    });
  }
});

describe('rgb8_normalize_to_nchw', () => {
  it('equals the twin bit for bit on every byte value with ImageNet and random statistics', () => {
    const rng = mulberry32(3);
    const [height, width] = [16, 48]; // 768 pixels: each byte value appears in every channel
    const pixels = new Uint8Array(height * width * 3).map((_, i) => (i * 7 + (i % 3) * 85) % 256);
    for (const [mean, std] of [
      [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]],
      [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]],
      [[rng(), rng(), rng()], [rng() + 0.01, rng() + 0.01, rng() + 0.01]],
    ]) {
      core.reset();
      const input = putBytes(pixels);
      const output = core.alloc(3 * height * width);
      kernels.rgb8_normalize_to_nchw(input, height, width, core.put(mean), core.put(std), output);
      expectSameBits(core.get(output, 3 * height * width), rgb8NormalizeToNchw(pixels, height, width, mean, std), `mean ${mean}`);
    }
  });

  it('equals the twin for every pixel count 1-40, four pixels to a vector step and the rest one at a time', () => {
    const rng = mulberry32(4);
    const [mean, std] = [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]];
    for (let width = 1; width <= 40; width++) {
      core.reset();
      const pixels = new Uint8Array(width * 3).map(() => Math.floor(rng() * 256)); // [1, width, 3]
      const input = putBytes(pixels);
      const output = core.alloc(3 * width);
      kernels.rgb8_normalize_to_nchw(input, 1, width, core.put(mean), core.put(std), output);
      expectSameBits(core.get(output, 3 * width), rgb8NormalizeToNchw(pixels, 1, width, mean, std), `${width} pixels`);
    }
  });
});
