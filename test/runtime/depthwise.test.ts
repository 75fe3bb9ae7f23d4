import { beforeAll, describe, expect, it } from 'vitest';
import type { PaddingMode } from '../../src/arch/padding.js';
import type { Activation } from '../../src/plan/program.js';
import { activationCode, type CoreKernels } from '../../src/runtime/kernels.js';
import type { DepthwiseExports } from '../../src/runtime/kernels/depthwise.js';
import type { WindowGeometry } from '../../src/runtime/reference/conv.js';
import type { MathExports } from '../../src/runtime/kernels/math.js';
import { referenceDepthwise, referenceDepthwiseSumsInCoreOrder } from '../../src/runtime/reference/depthwise.js';
import { referenceChannelSums } from '../../src/runtime/reference/pool.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { windowGeometry } from '../support/geometry.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { activationErrorBound, expectSameBits, expectWithin, sumErrorBound } from '../support/tolerance.js';

/** Floats after each output that must stay untouched: catches stores past the tensor's end. */
const GUARD_FLOATS = 16;

interface DepthwiseCase {
  n: number;
  h: number;
  w: number;
  c: number;
  kernel: number;
  stride: number;
  padding: PaddingMode;
  activation: Activation;
  withSums: boolean;
}

interface DepthwiseData {
  input: Float32Array; // [n, h, w, c]
  weight: Float32Array; // [c, 1, k, k]
  bias: Float32Array; // [c]
}

interface DepthwiseResult {
  output: Float32Array; // [n, outH, outW, c]
  sums: Float32Array | null; // [n, c]
}

let core: TestCore;
let kernels: DepthwiseExports;
/** The core's code for an activation, read from the instance's exported constants. */
let codeOf: (activation: Activation) => number;

beforeAll(async () => {
  core = await createTestCore();
  kernels = core.exports as unknown as DepthwiseExports;
  codeOf = (activation) => activationCode(core.exports as unknown as CoreKernels, activation);
});

function randomData(c: DepthwiseCase, seed: number): DepthwiseData {
  const rng = mulberry32(seed);
  return {
    input: randomFloats(rng, c.n * c.h * c.w * c.c, 2),
    weight: randomFloats(rng, c.c * c.kernel * c.kernel, 0.5),
    bias: randomFloats(rng, c.c, 1),
  };
}

/** A buffer of `floats` plus a guard, all NaN, so unwritten elements and overruns are visible. */
function allocPoisoned(floats: number): number {
  const offset = core.alloc(floats + GUARD_FLOATS);
  new Float32Array(core.exports.memory.buffer, offset, floats + GUARD_FLOATS).fill(NaN);
  return offset;
}

function expectGuardIntact(offset: number, floats: number, label: string): void {
  expect(core.get(offset + floats * 4, GUARD_FLOATS).every(Number.isNaN), `${label}: floats after it untouched`).toBe(true);
}

function runCore(c: DepthwiseCase, data: DepthwiseData, g: WindowGeometry = windowGeometry(c)): DepthwiseResult {
  core.reset();
  const source = core.put(data.weight);
  const packed = core.alloc(kernels.depthwise_packed_floats(c.c, c.kernel));
  kernels.depthwise_pack(source, c.c, c.kernel, packed);
  const input = core.put(data.input);
  const bias = core.put(data.bias);
  const total = c.n * g.outH * g.outW * c.c;
  const output = allocPoisoned(total);
  const sums = c.withSums ? allocPoisoned(c.n * c.c) : 0;
  kernels.depthwise_conv(input, c.n, c.h, c.w, c.c, packed, bias, c.kernel, c.stride, g.padTop, g.padLeft,
    g.outH, g.outW, output, codeOf(c.activation), sums);
  expectGuardIntact(output, total, 'output');
  if (sums !== 0) expectGuardIntact(sums, c.n * c.c, 'channel sums');
  return { output: core.get(output, total), sums: sums === 0 ? null : core.get(sums, c.n * c.c) };
}

/**
 * An output sums k*k products and the bias in float32: error within sumErrorBound(k*k + 1, sum
 * of |terms|), where the sum of |terms| is the same depthwise conv on absolute values; swish adds
 * its slope and rounding. A channel sum adds outH*outW such outputs: its error is the sum of their
 * bounds plus the rounding of outH*outW additions.
 */
function expectMatchesReference(
  c: DepthwiseCase, data: DepthwiseData, actual: DepthwiseResult, label: string, g: WindowGeometry = windowGeometry(c),
): void {
  const shape = [c.n, c.h, c.w, c.c] as const;
  const expected = referenceDepthwise(data.input, shape, data.weight, c.kernel, data.bias, g, c.activation);
  const magnitude = referenceDepthwise(data.input.map(Math.abs), shape, data.weight.map(Math.abs), c.kernel,
    data.bias.map(Math.abs), g, 'none');
  const terms = c.kernel * c.kernel + 1;
  const bounds = expected.map((value, i) => activationErrorBound(sumErrorBound(terms, magnitude[i]), value, c.activation));
  expectWithin(actual.output, expected, (i) => bounds[i], label);
  if (actual.sums === null) return;
  const pixels = g.outH * g.outW;
  const pooledShape = [c.n, pixels, c.c] as const;
  const expectedSums = referenceChannelSums(expected, pooledShape);
  const boundSums = referenceChannelSums(bounds, pooledShape);
  const absoluteSums = referenceChannelSums(expected.map(Math.abs), pooledShape);
  expectWithin(actual.sums, expectedSums, (i) => boundSums[i] + sumErrorBound(pixels, absoluteSums[i]), `${label} sums`);
}

/**
 * The core's promised order, bit for bit (no tolerance): its pre-activation sums are the float32
 * twin's (`referenceDepthwiseSumsInCoreOrder`), its activation is its own epilogue
 * (vector_activate) applied to them, and each channel sum adds the activated outputs in raster
 * order from +0. This is what makes a result independent of the path (span, pair, clipped edge,
 * scalar tail) and of the band a thread computes it in; the float64 comparison above cannot see
 * a changed summation order, this can.
 */
function expectCoreOrder(
  c: DepthwiseCase, data: DepthwiseData, actual: DepthwiseResult, label: string, g: WindowGeometry = windowGeometry(c),
): void {
  const preActivation = referenceDepthwiseSumsInCoreOrder(data.input, [c.n, c.h, c.w, c.c], data.weight, c.kernel, data.bias, g);
  const from = core.put(preActivation);
  const to = core.alloc(preActivation.length);
  (core.exports as unknown as MathExports).vector_activate(from, to, preActivation.length, codeOf(c.activation));
  const expected = core.get(to, preActivation.length); // [n, outH, outW, c]
  expectSameBits(actual.output, expected, `${label}: output in the core's order`);
  if (actual.sums === null) return;
  const pixels = g.outH * g.outW;
  const expectedSums = new Float32Array(c.n * c.c); // [n, c]
  for (let b = 0; b < c.n; b++) {
    for (let p = 0; p < pixels; p++) {
      for (let ch = 0; ch < c.c; ch++) {
        expectedSums[b * c.c + ch] = Math.fround(expectedSums[b * c.c + ch] + expected[(b * pixels + p) * c.c + ch]);
      }
    }
  }
  expectSameBits(actual.sums, expectedSums, `${label}: channel sums in raster order`);
}

const CHANNELS = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 40];
const SIZES = [1, 2, 5, 7, 8, 13];

describe('depthwise_conv against the reference', () => {
  for (const kernel of [3, 5]) {
    for (const stride of [1, 2]) {
      for (const padding of ['same', 'symmetric'] as const) {
        it(`k${kernel} stride ${stride} ${padding}: every channel count and size, batch 1 and 2, each activation, sums on and off`, () => {
          let seed = 1;
          for (const channels of CHANNELS) {
            for (const size of SIZES) {
              for (const n of [1, 2]) {
                // swish and none everywhere; ReLU6 (Lite) takes none's place every third case.
                for (const activation of (seed % 3 === 0 ? ['relu6', 'swish'] : ['none', 'swish']) as readonly Activation[]) {
                  for (const withSums of [false, true]) {
                    // Width differs from height in every other case so rows and columns are not interchangeable.
                    const w = seed % 2 === 0 ? size : SIZES[(SIZES.indexOf(size) + 1) % SIZES.length];
                    const c: DepthwiseCase = { n, h: size, w, c: channels, kernel, stride, padding, activation, withSums };
                    const data = randomData(c, seed++);
                    const actual = runCore(c, data);
                    expectMatchesReference(c, data, actual, JSON.stringify(c));
                    expectCoreOrder(c, data, actual, JSON.stringify(c));
                  }
                }
              }
            }
          }
        });
      }
    }
  }

  it('other kernel sizes (1, 7) take the generic path and are still correct', () => {
    let seed = 500;
    for (const kernel of [1, 7]) {
      for (const stride of [1, 2]) {
        for (const padding of ['same', 'symmetric'] as const) {
          for (const channels of [3, 8, 13]) {
            for (const size of [1, 6, 11]) {
              const c: DepthwiseCase = { n: 2, h: size, w: size + 1, c: channels, kernel, stride, padding, activation: 'swish', withSums: true };
              const data = randomData(c, seed++);
              const actual = runCore(c, data);
              expectMatchesReference(c, data, actual, JSON.stringify(c));
              expectCoreOrder(c, data, actual, JSON.stringify(c));
            }
          }
        }
      }
    }
  });

  it('windows lying entirely in the padding (padding wider than the kernel) give just the activated bias', () => {
    for (const channels of [3, 8]) {
      const c: DepthwiseCase = { n: 1, h: 3, w: 4, c: channels, kernel: 3, stride: 1, padding: 'same', activation: 'swish', withSums: true };
      const g: WindowGeometry = { stride: 1, padTop: 4, padLeft: 5, outH: 11, outW: 13 };
      const data = randomData(c, 31);
      const actual = runCore(c, data, g);
      expectMatchesReference(c, data, actual, `far padding, c=${channels}`, g);
      expectCoreOrder(c, data, actual, `far padding, c=${channels}`, g);
    }
  });

  it('a B0-sized layer: 96 channels, 3x3 stride 2, 56x56', () => {
    const c: DepthwiseCase = { n: 1, h: 56, w: 56, c: 96, kernel: 3, stride: 2, padding: 'same', activation: 'swish', withSums: true };
    const data = randomData(c, 77);
    const actual = runCore(c, data);
    expectMatchesReference(c, data, actual, 'b0 layer');
    expectCoreOrder(c, data, actual, 'b0 layer');
  });

  // The 5x5 interior runs two output pixels per loop trip (span5Pairs) when a row has two or more
  // pixels whose window covers every column, and one pixel otherwise. Every width from 1 to 24
  // gives spans of 0 to 20 pixels, odd and even, at both strides and paddings; 7 rows give cut
  // windows above and below a full one; channel counts below, at and above a vector, with a tail.
  for (const stride of [1, 2]) {
    it(`k5 stride ${stride}: every span length from 0 to 20 pixels, pairs and the odd pixel after them`, () => {
      let seed = 900 + stride;
      for (const padding of ['same', 'symmetric'] as const) {
        for (let w = 1; w <= 24; w++) {
          for (const channels of [3, 4, 9]) {
            const c: DepthwiseCase = { n: 1, h: 7, w, c: channels, kernel: 5, stride, padding, activation: 'swish', withSums: true };
            const data = randomData(c, seed++);
            const actual = runCore(c, data);
            expectMatchesReference(c, data, actual, JSON.stringify(c));
            expectCoreOrder(c, data, actual, JSON.stringify(c));
          }
        }
      }
    });
  }
});

describe('depthwise_conv determinism', () => {
  // Channels never mix, so channel 4 of a 5-channel conv (the scalar tail, one path for every
  // pixel) must equal channel 4 of an 8-channel conv (a vector lane: the unrolled interior, the
  // rows cut by the top or bottom edge and the clipped edge pixels) given the same data for it.
  for (const kernel of [3, 5]) {
    for (const stride of [1, 2]) {
      it(`a channel has the same bits in the scalar tail as in a vector lane (k${kernel}, stride ${stride})`, () => {
        const wide: DepthwiseCase = { n: 2, h: 11, w: 13, c: 8, kernel, stride, padding: 'same', activation: 'swish', withSums: true };
        const narrow: DepthwiseCase = { ...wide, c: 5 };
        const data = randomData(wide, 3 + kernel + stride);
        const taps = wide.kernel * wide.kernel;
        const keepChannels = (tensor: Float32Array, from: number, to: number): Float32Array =>
          tensor.filter((_, i) => i % from < to);
        const narrowData: DepthwiseData = {
          input: keepChannels(data.input, 8, 5),
          weight: data.weight.slice(0, 5 * taps),
          bias: data.bias.slice(0, 5),
        };
        const wideResult = runCore(wide, data);
        const narrowResult = runCore(narrow, narrowData);
        expectSameBits(narrowResult.output, keepChannels(wideResult.output, 8, 5), 'output');
        expectSameBits(narrowResult.sums!, keepChannels(wideResult.sums!, 8, 5), 'channel sums');
      });
    }
  }

  it('an image has the same bits whether it runs alone or second in a batch of 2', () => {
    const pair: DepthwiseCase = { n: 2, h: 10, w: 9, c: 12, kernel: 3, stride: 2, padding: 'symmetric', activation: 'swish', withSums: true };
    const single: DepthwiseCase = { ...pair, n: 1 };
    const data = randomData(pair, 13);
    const imageFloats = pair.h * pair.w * pair.c;
    const pairResult = runCore(pair, data);
    const singleResult = runCore(single, { ...data, input: data.input.slice(imageFloats) });
    expectSameBits(singleResult.output, pairResult.output.slice(pairResult.output.length / 2), 'output');
    expectSameBits(singleResult.sums!, pairResult.sums!.slice(pair.c), 'channel sums');
  });

  it('channel sums are overwritten, not accumulated, on a second run', () => {
    const c: DepthwiseCase = { n: 1, h: 6, w: 6, c: 8, kernel: 3, stride: 1, padding: 'same', activation: 'none', withSums: true };
    const data = randomData(c, 21);
    const first = runCore(c, data);
    const g = windowGeometry(c);
    // Run again into the same sums buffer, which now holds the first run's values.
    const again = core.alloc(first.output.length);
    const sums = core.put(first.sums!);
    const packed = core.alloc(kernels.depthwise_packed_floats(c.c, c.kernel));
    kernels.depthwise_pack(core.put(data.weight), c.c, c.kernel, packed);
    kernels.depthwise_conv(core.put(data.input), 1, c.h, c.w, c.c, packed, core.put(data.bias), c.kernel, 1,
      g.padTop, g.padLeft, g.outH, g.outW, again, codeOf('none'), sums);
    expectSameBits(core.get(sums, c.c), first.sums!, 'sums after a second run');
  });
});
