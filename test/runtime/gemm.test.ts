import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation } from '../../src/plan/program.js';
import type { GemmExports } from '../../src/runtime/kernels/gemm.js';
import { activationCode, type CoreKernels } from '../../src/runtime/kernels.js';
import {
  referencePackPanels, referencePointwise, referenceScalePanelInputs, referenceUnpackPanels,
} from '../../src/runtime/reference/gemm.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { mulberry32, randomFloats } from '../support/random.js';
import {
  activationErrorBound, expectSameBits, expectWithin, FLOAT32_EPSILON, sumErrorBound,
} from '../support/tolerance.js';

/** Floats after each output and packed buffer that must stay untouched: catches stores past the end. */
const GUARD_FLOATS = 16;
/** Output channels per packed panel, the layout gemm_pack promises (see assembly/gemm.ts). */
const PANEL_WIDTH = 16;

interface GemmCase {
  rows: number;
  K: number;
  N: number;
  activation: Activation;
  withBias: boolean;
  withResidual: boolean;
}

interface GemmData {
  input: Float32Array; // [rows, K]
  weight: Float32Array; // [N, K]
  bias: Float32Array | null; // [N]
  residual: Float32Array | null; // [rows, N]
}

let core: TestCore;
let gemm: GemmExports;

beforeAll(async () => {
  core = await createTestCore();
  gemm = core.exports as unknown as GemmExports;
});

function randomData(c: GemmCase, seed: number): GemmData {
  const rng = mulberry32(seed);
  return {
    input: randomFloats(rng, c.rows * c.K, 2),
    weight: randomFloats(rng, c.N * c.K, 0.5),
    bias: c.withBias ? randomFloats(rng, c.N, 1) : null,
    residual: c.withResidual ? randomFloats(rng, c.rows * c.N, 1) : null,
  };
}

/** Copies the weights in and packs them; returns the packed buffer's offset. */
function packWeights(c: GemmCase, weight: Float32Array): number {
  const source = core.put(weight);
  const packed = core.alloc(gemm.gemm_packed_floats(c.K, c.N));
  gemm.gemm_pack(source, c.K, c.N, packed);
  return packed;
}

/**
 * Runs gemm in the core over the row ranges [splits[i], splits[i+1]) as separate calls (one call
 * over all rows by default), checks nothing past the output was written, returns [rows, N].
 */
function runCore(c: GemmCase, data: GemmData, splits: readonly number[] = [0, c.rows]): Float32Array {
  core.reset();
  const packed = packWeights(c, data.weight);
  const input = core.put(data.input);
  const bias = data.bias === null ? 0 : core.put(data.bias);
  const residual = data.residual === null ? 0 : core.put(data.residual);
  const output = core.alloc(c.rows * c.N + GUARD_FLOATS);
  const code = activationCode(core.exports as unknown as CoreKernels, c.activation);
  for (let i = 0; i + 1 < splits.length; i++) {
    const start = splits[i];
    gemm.gemm(
      input + start * c.K * 4, splits[i + 1] - start, c.K, packed, bias, c.N,
      output + start * c.N * 4, code, residual === 0 ? 0 : residual + start * c.N * 4,
    );
  }
  expect(Array.from(core.get(output + c.rows * c.N * 4, GUARD_FLOATS)), 'guard after output').toEqual(
    new Array(GUARD_FLOATS).fill(0),
  );
  return core.get(output, c.rows * c.N);
}

/**
 * Per-element error bound against the float64 twin:
 * - The kernel's accumulator is a float32 sum of K + 1 terms (the bias and K rounded products),
 *   so its error is within sumErrorBound(K + 1, |bias| + sum_k |a_k w_k|) (first-order
 *   recursive-summation bound, with the factor 2 that tolerance.ts explains).
 * - Swish moves that error by at most its slope and adds its own approximation error relative to
 *   its value (the core's exp is a polynomial, not Math.exp): activationErrorBound.
 * - Two more float32 roundings of the final value: the twin's store to float32 and the kernel's
 *   residual add, each at most 2^-24 |value|, together FLOAT32_EPSILON |value|.
 */
function errorBound(c: GemmCase, data: GemmData, expected: Float32Array): (index: number) => number {
  const activated = referencePointwise(data.input, c.rows, c.K, data.weight, data.bias, c.N, c.activation, null);
  return (index) => {
    const row = Math.floor(index / c.N);
    const n = index % c.N;
    let magnitude = data.bias === null ? 0 : Math.abs(data.bias[n]);
    for (let k = 0; k < c.K; k++) magnitude += Math.abs(data.input[row * c.K + k] * data.weight[n * c.K + k]);
    const sumBound = sumErrorBound(c.K + 1, magnitude);
    return activationErrorBound(sumBound, activated[index], c.activation) + FLOAT32_EPSILON * Math.abs(expected[index]);
  };
}

function checkAgainstTwin(c: GemmCase, seed: number): void {
  const data = randomData(c, seed);
  const expected = referencePointwise(data.input, c.rows, c.K, data.weight, data.bias, c.N, c.activation, data.residual);
  const actual = runCore(c, data);
  const label = `rows ${c.rows} K ${c.K} N ${c.N} ${c.activation}${c.withBias ? ' bias' : ''}${c.withResidual ? ' residual' : ''}`;
  expectWithin(actual, expected, errorBound(c, data, expected), label);
}

/** Channel counts below, at and above the 4-lane vector, 8 and the 16-wide panel. */
const CHANNELS = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 40];
/** Row counts below, at and above the 2-row tile, with and without a tail, over several tiles. */
const ROWS = [1, 2, 3, 4, 5, 7, 8, 9, 13];
/** Every combination of the epilogue's options. */
const OPTIONS = (['none', 'swish', 'relu6', 'relu'] as const).flatMap((activation) =>
  [false, true].flatMap((withBias) => [false, true].map((withResidual) => ({ activation, withBias, withResidual }))),
);

describe('gemm against its scalar twin', () => {
  it('matches for every K x N pair, rows and options rotating', () => {
    let index = 0;
    for (const K of CHANNELS) {
      for (const N of CHANNELS) {
        const options = OPTIONS[index % OPTIONS.length];
        checkAgainstTwin({ rows: ROWS[index % ROWS.length], K, N, ...options }, 1000 + index);
        index++;
      }
    }
  });

  it('matches for every row count with every option combination', () => {
    let index = 0;
    for (const rows of ROWS) {
      for (const options of OPTIONS) {
        checkAgainstTwin({ rows, K: CHANNELS[index % CHANNELS.length], N: CHANNELS[(index * 5 + 3) % CHANNELS.length], ...options }, 2000 + index);
        index++;
      }
    }
  });

  it('matches across K blocks and row blocks (K and rows beyond 256, ragged tails)', () => {
    checkAgainstTwin({ rows: 263, K: 521, N: 21, activation: 'swish', withBias: true, withResidual: true }, 3001);
    checkAgainstTwin({ rows: 258, K: 257, N: 12, activation: 'none', withBias: false, withResidual: true }, 3002);
  });
});

describe('gemm determinism', () => {
  // A worker pool will split rows across threads: each output element must get the same bits
  // whichever call, tile or row tail computes it.
  const cases: GemmCase[] = [
    { rows: 29, K: 37, N: 21, activation: 'swish', withBias: true, withResidual: true },
    { rows: 263, K: 300, N: 13, activation: 'none', withBias: true, withResidual: false },
  ];
  for (const c of cases) {
    it(`gives the same bits for any row split (rows ${c.rows}, K ${c.K}, N ${c.N})`, () => {
      const data = randomData(c, 4000 + c.rows);
      const whole = runCore(c, data);
      const oddSplits = [0, 1, 4, 7, 12, 13, 22, c.rows];
      expectSameBits(runCore(c, data, oddSplits), whole, 'odd split');
      const singleRows = Array.from({ length: c.rows + 1 }, (_, row) => row);
      expectSameBits(runCore(c, data, singleRows), whole, 'one row per call');
    });
  }
});

describe('gemm tiles agree', () => {
  it('an output column has the same bits in the narrow 4 x 8 tail tile as in a full 16-wide panel', () => {
    // With N = 21 columns 16..20 are a last panel of 5: the narrow tile. With N = 32 the same
    // columns (same weights and bias) sit in a full panel of the 2 x 16 tile.
    for (const options of OPTIONS) {
      const full: GemmCase = { rows: 11, K: 300, N: 32, ...options };
      const narrow: GemmCase = { ...full, N: 21 };
      const data = randomData(full, 6000);
      const keepColumns = (tensor: Float32Array | null, width: number): Float32Array | null =>
        tensor === null ? null : tensor.filter((_, i) => i % width < narrow.N);
      const narrowData: GemmData = {
        input: data.input,
        weight: data.weight.slice(0, narrow.N * full.K),
        bias: data.bias === null ? null : data.bias.slice(0, narrow.N),
        residual: keepColumns(data.residual, full.N),
      };
      expectSameBits(runCore(narrow, narrowData), keepColumns(runCore(full, data), full.N)!, JSON.stringify(options));
    }
  });
});

describe('gemm_pack', () => {
  it('lays weights out as zero-padded panels of 16 output channels, K-major, and writes nothing more', () => {
    for (const [K, N] of [[1, 1], [3, 8], [5, 16], [7, 17], [9, 40]]) {
      const c: GemmCase = { rows: 1, K, N, activation: 'none', withBias: false, withResidual: false };
      const weight = randomFloats(mulberry32(5000 + K * N), N * K, 1); // [N, K]
      const floats = gemm.gemm_packed_floats(K, N);
      const panels = Math.ceil(N / PANEL_WIDTH);
      expect(floats, `packed floats for K ${K} N ${N}`).toBe(panels * K * PANEL_WIDTH);
      core.reset();
      const packed = packWeights(c, weight);
      const actual = core.get(packed, floats + GUARD_FLOATS);
      const expected = new Float32Array(floats + GUARD_FLOATS); // [panels, K, 8] then zero guard
      for (let panel = 0; panel < panels; panel++) {
        for (let k = 0; k < K; k++) {
          for (let j = 0; j < PANEL_WIDTH; j++) {
            const channel = panel * PANEL_WIDTH + j;
            expected[(panel * K + k) * PANEL_WIDTH + j] = channel < N ? weight[channel * K + k] : 0;
          }
        }
      }
      expectSameBits(actual, expected, `pack K ${K} N ${N}`);
    }
  });
});

describe('gemm_scale_inputs', () => {
  /** Input and output channel counts below, at and above the 4-lane vector and the 16-wide panel. */
  const SHAPES = [[1, 1], [3, 8], [5, 16], [7, 17], [24, 40], [33, 24]] as const;

  it('multiplies input channel k of every panel by scale[k], bit for bit as its twin, and writes nothing more', () => {
    for (const [K, N] of SHAPES) {
      const c: GemmCase = { rows: 1, K, N, activation: 'none', withBias: false, withResidual: false };
      const rng = mulberry32(6000 + K * N);
      const weight = randomFloats(rng, N * K, 1); // [N, K]
      const scale = randomFloats(rng, K, 1); // [K]
      const floats = gemm.gemm_packed_floats(K, N);
      core.reset();
      const packed = packWeights(c, weight);
      const scaled = core.alloc(floats + GUARD_FLOATS);
      gemm.gemm_scale_inputs(packed, K, N, core.put(scale), scaled);
      // One float32 multiply per weight on both sides, so the bits agree exactly; the zero guard
      // after the panels catches a store past them.
      const expected = new Float32Array(floats + GUARD_FLOATS);
      expected.set(referenceScalePanelInputs(referencePackPanels(weight, N, K), N, K, scale));
      expectSameBits(core.get(scaled, floats + GUARD_FLOATS), expected, `scale K ${K} N ${N}`);
    }
  });

  it("packs and unpacks in the twin exactly as gemm_pack lays the panels out", () => {
    for (const [K, N] of SHAPES) {
      const weight = randomFloats(mulberry32(6100 + K * N), N * K, 1); // [N, K]
      core.reset();
      const packed = packWeights({ rows: 1, K, N, activation: 'none', withBias: false, withResidual: false }, weight);
      const twin = referencePackPanels(weight, N, K);
      expectSameBits(core.get(packed, gemm.gemm_packed_floats(K, N)), twin, `pack K ${K} N ${N}`);
      expectSameBits(referenceUnpackPanels(twin, N, K), weight, `unpack K ${K} N ${N}`);
    }
  });

  it('makes the GEMM compute W · (scale ⊙ input), in place too', () => {
    for (const [rows, K, N] of [[5, 24, 40], [9, 17, 16], [3, 300, 7]] as const) {
      const c: GemmCase = { rows, K, N, activation: 'none', withBias: true, withResidual: false };
      const data = randomData(c, 6200 + rows * K);
      const scale = randomFloats(mulberry32(6300 + K), K, 1); // [K]
      core.reset();
      const packed = packWeights(c, data.weight);
      gemm.gemm_scale_inputs(packed, K, N, core.put(scale), packed); // the buffers may be the same
      const output = core.alloc(rows * N); // [rows, N]
      gemm.gemm(core.put(data.input), rows, K, packed, core.put(data.bias!), N, output, 0, 0);
      // The twin scales the input in float64 (no rounding). The core rounds each scaled weight
      // once (2^-24 relative) before the K + 1 term float32 sum, so the sum bound for K + 2 terms
      // (one term's worth of 2^-23 |a w s| more than the K + 1 the sum itself needs) covers it.
      const float64Input = Float64Array.from(data.input, (x, i) => x * scale[i % K]);
      const expected = new Float64Array(rows * N); // [rows, N]
      for (let row = 0; row < rows; row++) {
        for (let n = 0; n < N; n++) {
          let sum = data.bias![n];
          for (let k = 0; k < K; k++) sum += float64Input[row * K + k] * data.weight[n * K + k];
          expected[row * N + n] = sum;
        }
      }
      expectWithin(core.get(output, rows * N), expected, (index) => {
        const [row, n] = [Math.floor(index / N), index % N];
        let magnitude = Math.abs(data.bias![n]);
        for (let k = 0; k < K; k++) magnitude += Math.abs(float64Input[row * K + k] * data.weight[n * K + k]);
        return sumErrorBound(K + 2, magnitude);
      }, `scaled gemm rows ${rows} K ${K} N ${N}`);
    }
  });
});
