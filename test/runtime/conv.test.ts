import { beforeAll, describe, expect, it } from 'vitest';
import type { PaddingMode } from '../../src/arch/padding.js';
import type { Activation } from '../../src/plan/program.js';
import { activationCode, type CoreKernels } from '../../src/runtime/kernels.js';
import type { ConvExports } from '../../src/runtime/kernels/conv.js';
import { referenceConv2d } from '../../src/runtime/reference/conv.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { windowGeometry } from '../support/geometry.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { activationErrorBound, expectSameBits, expectWithin, FLOAT32_EPSILON, sumErrorBound } from '../support/tolerance.js';

/** Floats after each output that must stay untouched: catches stores past the tensor's end. */
const GUARD_FLOATS = 16;

interface ConvCase {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kernel: number;
  stride: number;
  padding: PaddingMode;
  activation: Activation;
  /** Add a residual `[n, outH, outW, cout]` after the activation (EfficientNetV2's conv-bn-act skip). */
  withResidual?: boolean;
}

interface ConvData {
  input: Float32Array; // [n, h, w, cin]
  weight: Float32Array; // [cout, cin, k, k]
  bias: Float32Array; // [cout]
  residual: Float32Array | null; // [n, outH, outW, cout]
}

let core: TestCore;
let kernels: ConvExports;
/** The core's code for an activation, read from the instance's exported constants. */
let codeOf: (activation: Activation) => number;

beforeAll(async () => {
  core = await createTestCore();
  kernels = core.exports as unknown as ConvExports;
  codeOf = (activation) => activationCode(core.exports as unknown as CoreKernels, activation);
});

function randomData(c: ConvCase, seed: number): ConvData {
  const rng = mulberry32(seed);
  const g = windowGeometry(c);
  return {
    input: randomFloats(rng, c.n * c.h * c.w * c.cin, 2),
    weight: randomFloats(rng, c.cout * c.cin * c.kernel * c.kernel, 0.5),
    bias: randomFloats(rng, c.cout, 1),
    residual: c.withResidual ? randomFloats(rng, c.n * g.outH * g.outW * c.cout, 2) : null,
  };
}

/** Packs, runs conv2d in the core, checks nothing past the output was written, returns [n, outH, outW, cout]. */
function runCore(c: ConvCase, data: ConvData): Float32Array {
  const g = windowGeometry(c);
  core.reset();
  const source = core.put(data.weight);
  const packed = core.alloc(kernels.conv2d_packed_floats(c.cout, c.cin, c.kernel, c.kernel));
  kernels.conv2d_pack(source, c.cout, c.cin, c.kernel, c.kernel, packed);
  const input = core.put(data.input);
  const bias = core.put(data.bias);
  const total = c.n * g.outH * g.outW * c.cout;
  const residual = data.residual === null ? 0 : core.put(data.residual);
  const output = core.alloc(total + GUARD_FLOATS);
  new Float32Array(core.exports.memory.buffer, output, total + GUARD_FLOATS).fill(NaN); // unwritten outputs show up as NaN
  kernels.conv2d(input, c.n, c.h, c.w, c.cin, packed, bias, c.cout, c.kernel, c.kernel, c.stride, g.padTop, g.padLeft,
    g.outH, g.outW, output, codeOf(c.activation), residual);
  expect(core.get(output + total * 4, GUARD_FLOATS).every(Number.isNaN), 'floats after the output untouched').toBe(true);
  return core.get(output, total);
}

/**
 * Each output sums cin*k*k products plus the bias in float32, so its error is bounded by
 * sumErrorBound(cin*k*k + 1, sum of |terms|); the sum of |terms| is the same convolution run on
 * absolute values. Swish then adds its slope and own rounding (activationErrorBound); ReLU6 and
 * ReLU are exact clamps. A residual adds one float32 rounding of the sum: FLOAT32_EPSILON of its size.
 */
function expectMatchesReference(c: ConvCase, data: ConvData, actual: Float32Array, label: string): void {
  const g = windowGeometry(c);
  const shape = [c.n, c.h, c.w, c.cin] as const;
  const weightShape = [c.cout, c.cin, c.kernel, c.kernel] as const;
  const expected = referenceConv2d(data.input, shape, data.weight, weightShape, data.bias, g, c.activation, data.residual);
  const activated = data.residual === null ? expected : referenceConv2d(data.input, shape, data.weight, weightShape, data.bias, g, c.activation);
  const magnitude = referenceConv2d(data.input.map(Math.abs), shape, data.weight.map(Math.abs), weightShape,
    data.bias.map(Math.abs), g, 'none');
  const terms = c.cin * c.kernel * c.kernel + 1;
  expectWithin(actual, expected,
    (i) => activationErrorBound(sumErrorBound(terms, magnitude[i]), activated[i], c.activation) + FLOAT32_EPSILON * Math.abs(expected[i]), label);
}

const CHANNELS = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 40];
const SIZES = [1, 2, 5, 7, 8, 13];

describe('conv2d against the reference', () => {
  for (const kernel of [3, 5]) {
    for (const stride of [1, 2]) {
      for (const padding of ['same', 'symmetric'] as const) {
        it(`k${kernel} stride ${stride} ${padding}: every cout and size, batch 1 and 2, with and without swish`, () => {
          let seed = 1;
          for (const cout of CHANNELS) {
            for (const size of SIZES) {
              for (const n of [1, 2]) {
                for (const activation of ['none', 'swish'] as const) {
                  // Input channels cycle through the stem's 3 and a few others; width differs from height
                  // in every other case so rows and columns are not interchangeable.
                  const cin = [3, 1, 4, 7][seed % 4];
                  const w = seed % 2 === 0 ? size : SIZES[(SIZES.indexOf(size) + 1) % SIZES.length];
                  const c: ConvCase = { n, h: size, w, cin, cout, kernel, stride, padding, activation };
                  const data = randomData(c, seed++);
                  expectMatchesReference(c, data, runCore(c, data), JSON.stringify(c));
                }
              }
            }
          }
        });
      }
    }
  }

  it('a stem-sized case: 3 -> 32 channels, 3x3 stride 2, 32x32 input', () => {
    const c: ConvCase = { n: 1, h: 32, w: 32, cin: 3, cout: 32, kernel: 3, stride: 2, padding: 'same', activation: 'swish' };
    const data = randomData(c, 99);
    expectMatchesReference(c, data, runCore(c, data), 'stem');
  });
});

/**
 * EfficientNetV2's conv-bn-act and fused-MBConv expansion convs run this kernel over 16 to 96
 * input channels. Input channels are the reduction axis (no tile of their own), output channels
 * the 16- and 4-wide SIMD tiles, so both sweep below, at and above 4 and 16.
 */
describe('conv2d over many input channels (EfficientNetV2\'s full 3x3 convs)', () => {
  const INPUT_CHANNELS = [8, 15, 16, 17, 24, 33];
  const OUTPUT_CHANNELS = [3, 4, 15, 16, 17, 32, 48];
  const ACTIVATIONS = ['none', 'swish', 'relu6', 'relu'] as const;
  for (const stride of [1, 2]) {
    for (const padding of ['same', 'symmetric'] as const) {
      it(`k3 stride ${stride} ${padding}: cin and cout below, at and above the tiles, each activation, with and without a residual`, () => {
        let seed = 500;
        for (const cin of INPUT_CHANNELS) {
          for (const cout of OUTPUT_CHANNELS) {
            const activation = ACTIVATIONS[seed % ACTIVATIONS.length];
            const size = [5, 8, 9][seed % 3];
            const c: ConvCase = { n: 1 + (seed % 2), h: size, w: size + 2, cin, cout, kernel: 3, stride, padding, activation, withResidual: seed % 3 !== 1 };
            const data = randomData(c, seed++);
            expectMatchesReference(c, data, runCore(c, data), JSON.stringify(c));
          }
        }
      });
    }
  }

  it('the residual is added after the activation: ReLU6 output plus a residual may exceed 6', () => {
    const c: ConvCase = { n: 1, h: 6, w: 6, cin: 16, cout: 16, kernel: 3, stride: 1, padding: 'same', activation: 'relu6', withResidual: true };
    const data = randomData(c, 71);
    data.bias.fill(100); // every pre-activation far above 6: the activated output is exactly 6
    const out = runCore(c, data);
    expectSameBits(out, Float32Array.from(data.residual!, (r) => 6 + r), 'relu6(x) + residual');
  });
});

describe('conv2d determinism', () => {
  it('an output channel has the same bits in a partial tail tile as in a full 16-wide tile', () => {
    // Output channel 16 of a 17-channel conv is the lone lane of the tail; with 32 channels it sits in a full tile.
    const wide: ConvCase = { n: 1, h: 7, w: 6, cin: 3, cout: 32, kernel: 3, stride: 2, padding: 'same', activation: 'swish' };
    const narrow: ConvCase = { ...wide, cout: 17 };
    const data = randomData(wide, 5);
    const perOutput = wide.cin * wide.kernel * wide.kernel;
    const narrowData: ConvData = {
      input: data.input,
      weight: data.weight.slice(0, narrow.cout * perOutput),
      bias: data.bias.slice(0, narrow.cout),
      residual: null,
    };
    const wideOut = runCore(wide, data);
    const narrowOut = runCore(narrow, narrowData);
    const pixels = narrowOut.length / narrow.cout;
    const wideFirst17 = new Float32Array(narrowOut.length);
    for (let p = 0; p < pixels; p++) wideFirst17.set(wideOut.subarray(p * 32, p * 32 + 17), p * 17);
    expectSameBits(narrowOut, wideFirst17, 'first 17 channels');
  });

  it('a pixel has the same bits whether the pixel-pair tile or the single-pixel tile computes it', () => {
    // With symmetric padding the first outputs of a narrower image see exactly the same windows.
    // At width 8 the fully-inside columns are 1..3, so column 3 is left over after the pair (1, 2)
    // and goes through the single-pixel tile; at width 10 it is paired with column 4.
    const wide: ConvCase = { n: 1, h: 9, w: 10, cin: 3, cout: 40, kernel: 3, stride: 2, padding: 'symmetric', activation: 'swish' };
    const narrow: ConvCase = { ...wide, w: 8 };
    const data = randomData(wide, 17);
    const narrowInput = data.input.filter((_, i) => Math.floor(i / wide.cin) % wide.w < narrow.w);
    const wideOut = runCore(wide, data);
    const narrowOut = runCore(narrow, { ...data, input: narrowInput });
    const wideColumns = windowGeometry(wide).outW;
    const narrowColumns = windowGeometry(narrow).outW;
    const sameColumns = wideOut.filter((_, i) => Math.floor(i / wide.cout) % wideColumns < narrowColumns);
    expectSameBits(narrowOut, sameColumns, 'columns 0..3');
  });

  it('an image has the same bits whether it runs alone or second in a batch of 2', () => {
    const pair: ConvCase = { n: 2, h: 9, w: 8, cin: 3, cout: 20, kernel: 5, stride: 1, padding: 'symmetric', activation: 'swish' };
    const single: ConvCase = { ...pair, n: 1 };
    const data = randomData(pair, 11);
    const imageFloats = pair.h * pair.w * pair.cin;
    const pairOut = runCore(pair, data);
    const singleOut = runCore(single, { ...data, input: data.input.slice(imageFloats) });
    expectSameBits(singleOut, pairOut.slice(pairOut.length / 2), 'second image');
  });
});
