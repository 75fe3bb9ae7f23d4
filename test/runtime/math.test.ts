import { beforeAll, describe, expect, it } from 'vitest';
import type { MathExports } from '../../src/runtime/kernels/math.js';
import { referenceActivate, referenceSigmoid, referenceSwish } from '../../src/runtime/reference/math.js';
import { activationCode, type CoreKernels } from '../../src/runtime/kernels.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { mulberry32, randomFloats } from '../support/random.js';
import {
  EXP_RELATIVE_ERROR, SIGMOID_RELATIVE_ERROR, SWISH_RELATIVE_ERROR, expectSameBits,
} from '../support/tolerance.js';

type MathName = Exclude<keyof MathExports, 'vector_activate'>;

/** Smallest positive normal float32; the core flushes anything below it to zero. */
const SMALLEST_NORMAL = 2 ** -126;

let core: TestCore;
let kernels: MathExports;
const apply = (name: MathName, values: ArrayLike<number>): Float32Array => {
  core.reset();
  const input = core.put(values);
  const output = core.alloc(values.length);
  kernels[name](input, output, values.length);
  return core.get(output, values.length);
};

/** `count` evenly spaced float32 values from `from` to `to`. */
const sweep = (from: number, to: number, count: number): Float32Array =>
  Float32Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));

const maxRelativeError = (actual: Float32Array, inputs: Float32Array, exact: (x: number) => number): number => {
  let worst = 0;
  inputs.forEach((x, i) => {
    const expected = exact(x);
    worst = Math.max(worst, Math.abs(actual[i] - expected) / Math.abs(expected));
  });
  return worst;
};

beforeAll(async () => {
  core = await createTestCore();
  kernels = core.exports as unknown as MathExports;
});

describe('exp, sigmoid and swish accuracy', () => {
  // Two million points, about one every 2^-13.5: every reduced-range position and exponent is hit
  // many times. The bounds (test/support/tolerance.ts) are what the other kernel tests rely on.
  const inputs = sweep(-87, 88, 2_000_001);

  it('exp stays within its stated relative error of Math.exp on [-87, 88]', () => {
    expect(maxRelativeError(apply('vector_exp', inputs), inputs, Math.exp)).toBeLessThanOrEqual(EXP_RELATIVE_ERROR);
  });

  it('sigmoid stays within its stated relative error on [-87, 88]', () => {
    expect(maxRelativeError(apply('vector_sigmoid', inputs), inputs, referenceSigmoid)).toBeLessThanOrEqual(SIGMOID_RELATIVE_ERROR);
  });

  it('swish stays within its stated relative error on [-87, 88] (zero excluded)', () => {
    const nonZero = inputs.filter((x) => x !== 0);
    expect(maxRelativeError(apply('vector_swish', nonZero), nonZero, referenceSwish)).toBeLessThanOrEqual(SWISH_RELATIVE_ERROR);
  });
});

// The bounds in test/support/tolerance.ts were measured over every normal float32 in [-87, 88]
// by bench/math-accuracy.ts (about 2 minutes); the sweep above re-checks them on every run.

describe('exp, sigmoid and swish at the edges', () => {
  it('exp gives 0 for huge negative inputs and +Infinity for huge positive ones', () => {
    const inputs = [-88, -100, -1000, -Infinity, 89, 100, 1000, Infinity];
    expect(Array.from(apply('vector_exp', inputs))).toEqual([0, 0, 0, 0, Infinity, Infinity, Infinity, Infinity]);
  });

  it('exp is finite just below ln(FLT_MAX) and propagates NaN', () => {
    const [belowMax, nan] = apply('vector_exp', [88.72, NaN]);
    expect(Number.isFinite(belowMax)).toBe(true);
    expect(Math.abs(belowMax - Math.exp(Math.fround(88.72))) / Math.exp(Math.fround(88.72))).toBeLessThanOrEqual(EXP_RELATIVE_ERROR);
    expect(nan).toBeNaN();
  });

  it('exp never returns a denormal: results below the smallest normal are exactly 0', () => {
    // Crosses the underflow threshold ln(2^-126) = -87.34 from both sides.
    const results = apply('vector_exp', sweep(-104, -86, 100_001));
    const denormals = results.filter((y) => y !== 0 && y < SMALLEST_NORMAL);
    expect(denormals.length).toBe(0);
    expect(results[0]).toBe(0);
    expect(results[results.length - 1]).toBeGreaterThan(SMALLEST_NORMAL);
  });

  // Up to the largest float32 and infinity, where exp's scale arithmetic would overflow if unguarded.
  const large = [100, 1000, 3.4e38, Infinity];

  it('sigmoid saturates cleanly for large inputs of either sign and propagates NaN', () => {
    expect(Array.from(apply('vector_sigmoid', large))).toEqual([1, 1, 1, 1]);
    // The true values (3.7e-44 at -100, smaller beyond) are below the smallest normal, so they flush to 0.
    expect(Array.from(apply('vector_sigmoid', large.map((x) => -x)))).toEqual([0, 0, 0, 0]);
    expect(apply('vector_sigmoid', [NaN])[0]).toBeNaN();
  });

  it('swish is the identity for large positive inputs, zero for large negative ones, and propagates NaN', () => {
    expect(Array.from(apply('vector_swish', large))).toEqual(large.map(Math.fround));
    expect(Array.from(apply('vector_swish', [-100, -1000, -3.4e38])).map(Math.abs)).toEqual([0, 0, 0]);
    // -Infinity * sigmoid(-Infinity) is -Infinity * 0: NaN, as in the textbook definition (and PyTorch).
    expect(apply('vector_swish', [-Infinity])[0]).toBeNaN();
    expect(referenceSwish(-Infinity)).toBeNaN();
    expect(apply('vector_swish', [NaN])[0]).toBeNaN();
  });
});

describe('sigmoid and swish are built on exactly the measured exp', () => {
  // The epilogues compute e = exp(-x) with their own exp (one scale instead of two, no
  // negation); this pins it to vector_exp bit for bit, so exp's measured error is the error
  // sigmoid and swish are built on. float64 evaluation of one float32 operation followed by
  // rounding is exactly that float32 operation, so the formulas can be replayed here.
  const rng = mulberry32(3);
  const inputs = Float32Array.from([
    ...randomFloats(rng, 20_000, 30), ...randomFloats(rng, 20_000, 2), ...sweep(-88, -86.5, 20_001),
    ...sweep(86.5, 89, 20_001), 0, -0,
  ]);
  const e = () => apply('vector_exp', inputs.map((x) => -x));

  it('sigmoid(x) has the bits of 1 / (1 + e), flushed to 0 below the smallest normal, with e = exp(-x) from vector_exp', () => {
    const exp = e();
    const expected = inputs.map((_, i) => {
      const quotient = Math.fround(1 / Math.fround(1 + exp[i]));
      return quotient < SMALLEST_NORMAL ? 0 : quotient;
    });
    expectSameBits(apply('vector_sigmoid', inputs), expected, 'sigmoid');
  });

  it('swish(x) has the bits of x / (1 + e) with e = exp(-x) from vector_exp, for x >= -88', () => {
    // Below -88.37 the epilogue's e^-x is +Inf where vector_exp may still be finite: both give a
    // swish of magnitude below 2^-120, and the epilogue's is exactly -0.
    const exp = e();
    const expected = inputs.map((x, i) => Math.fround(x / Math.fround(1 + exp[i])));
    expectSameBits(apply('vector_swish', inputs), expected, 'swish');
  });
});

describe('scalar tail and vector lanes agree bit for bit', () => {
  // A value processed alone (count 1: the scalar path) must equal the same value inside a full vector.
  const rng = mulberry32(7);
  const values = Float32Array.from([
    ...randomFloats(rng, 1000, 10), ...randomFloats(rng, 1000, 90), 0, -0, 1e-30, -1e-30, 88.5, -87.5, 100, -100,
  ]);

  for (const name of ['vector_exp', 'vector_sigmoid', 'vector_swish'] as const) {
    it(name, () => {
      const vectorResults = apply(name, values);
      core.reset();
      const input = core.put(values);
      const output = core.alloc(values.length);
      for (let i = 0; i < values.length; i++) kernels[name](input + 4 * i, output + 4 * i, 1);
      expectSameBits(core.get(output, values.length), vectorResults, name);
    });
  }
});

describe('the epilogue activation pass', () => {
  const activate = (values: ArrayLike<number>, activation: 'none' | 'swish' | 'relu6' | 'relu'): Float32Array => {
    core.reset();
    const input = core.put(values);
    const output = core.alloc(values.length);
    kernels.vector_activate(input, output, values.length, activationCode(core.exports as unknown as CoreKernels, activation));
    return core.get(output, values.length);
  };
  // Lengths 1..9 put every value through both the vector body and the scalar tail somewhere.
  const values = Float32Array.from([-1e30, -7, -6, -0.5, -0, 0, 1e-40, 0.25, 5.999999, 6, 6.000001, 7, 1e30, Infinity, -Infinity]);

  it('ReLU6 and ReLU are exact clamps, in the vector body and the scalar tail alike', () => {
    for (const activation of ['relu6', 'relu'] as const) {
      for (let length = 1; length <= values.length; length++) {
        const input = values.slice(0, length);
        const expected = Float32Array.from(input, (x) => referenceActivate(x, activation));
        expectSameBits(activate(input, activation), expected, `${activation}, ${length} values`);
      }
    }
  });
  it('ReLU6 and ReLU propagate NaN and turn -0 into +0', () => {
    for (const activation of ['relu6', 'relu'] as const) {
      const out = activate([NaN, -0, NaN, -0, NaN], activation);
      expect([...out].map((x) => (Number.isNaN(x) ? 'NaN' : Object.is(x, 0) ? '+0' : String(x)))).toEqual(['NaN', '+0', 'NaN', '+0', 'NaN']);
    }
  });
  it('swish through the pass has the bits of vector_swish; none leaves values alone', () => {
    const input = randomFloats(mulberry32(7), 37, 10);
    expectSameBits(activate(input, 'swish'), apply('vector_swish', input), 'swish');
    expectSameBits(activate(input, 'none'), input, 'none');
  });
});
