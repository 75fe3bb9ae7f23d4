/**
 * The work units threads share are exact: for every step of real programs, running the step's
 * units gives the bits of the whole kernel call (the call the single-threaded core made before
 * steps were cut). Runs in-process on one instance: who runs a unit cannot matter once each
 * unit alone is exact, and the multi-threaded tests check the rest end to end.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BN_EPS } from '../../src/arch/padding.js';
import { buildNetwork } from '../../src/arch/network.js';
import { planProgramMemory } from '../../src/plan/memory.js';
import { bandRows, buildProgram, elementCount, MAX_BANDS, type Program, type Step } from '../../src/plan/program.js';
import type { PaddingMode } from '../../src/plan/geometry.js';
import { activationCode } from '../../src/runtime/kernels.js';
import { ensureMemory } from '../../src/runtime/memory-limits.js';
import { layoutWeights, packWeights, type WeightLayout } from '../../src/runtime/packed-weights.js';
import {
  bandInput, gemmColumnRanges, gemmRowRanges, MAX_UNIT_ROWS, MIN_UNIT_ROWS, PANEL_WIDTH, pixelRanges,
} from '../../src/runtime/threads/work-units.js';
import { prepareProgram, type ExecutorKernels, type PreparedProgram } from '../../src/runtime/wasm-executor.js';
import { instantiateCore } from '../../src/runtime/wasm.js';
import { foldingRecipe } from '../../src/weights/recipe.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { expectSameBits } from '../support/tolerance.js';


describe('unit ranges', () => {
  it('cut GEMM rows into contiguous, tile-aligned units of bounded size', () => {
    for (let rows = 1; rows <= 13000; rows += rows < 300 ? 1 : 97) {
      const ranges = gemmRowRanges(rows);
      expect(ranges[0][0]).toBe(0);
      expect(ranges[ranges.length - 1][1]).toBe(rows);
      ranges.forEach(([start, end], u) => {
        if (u > 0) expect(start, `rows=${rows}`).toBe(ranges[u - 1][1]);
        expect(start % 2, `rows=${rows}: a unit starts mid-tile`).toBe(0);
        expect(end - start, `rows=${rows}`).toBeLessThanOrEqual(MAX_UNIT_ROWS);
        // Aligning a boundary down to a tile can take one tile from a unit; only the last unit of the
        // fixed 256-row cut may be shorter still.
        if (ranges.length > 1 && u < ranges.length - 1) expect(end - start, `rows=${rows}`).toBeGreaterThanOrEqual(MIN_UNIT_ROWS - 2);
      });
    }
  });

  it('cut GEMM columns on panel boundaries and pixels into contiguous ranges', () => {
    for (const channels of [17, 40, 1000, 1280]) {
      const ranges = gemmColumnRanges(channels);
      expect(ranges.flat()[0]).toBe(0);
      expect(ranges[ranges.length - 1][1]).toBe(channels);
      for (let g = 1; g < ranges.length; g++) {
        expect(ranges[g][0]).toBe(ranges[g - 1][1]);
        expect(ranges[g][0] % PANEL_WIDTH).toBe(0);
      }
    }
    for (const [spatial, channels] of [[1, 8], [49, 1152], [12544, 96]]) {
      const ranges = pixelRanges(spatial, channels);
      expect(ranges[0][0]).toBe(0);
      expect(ranges[ranges.length - 1][1]).toBe(spatial);
      for (let p = 1; p < ranges.length; p++) expect(ranges[p][0]).toBe(ranges[p - 1][1]);
    }
  });

  it('give a band the input rows from its first window down to the image bottom', () => {
    // A 3x3 stride-2 conv over 9 rows padded 1 on top: band rows 0-1 start at row 0 still padded
    // by 1; a band from output row 2 starts at input row 3 with no padding of its own.
    const conv = { n: 1, height: 9, width: 9, kernel: 3, stride: 2, padTop: 1, padLeft: 1, outHeight: 5, outWidth: 5 };
    expect(bandInput(conv, 0)).toEqual({ firstRow: 0, padTop: 1, height: 9 });
    expect(bandInput(conv, 2)).toEqual({ firstRow: 3, padTop: 0, height: 6 });
    // A 5x5 stride-1 conv padded 2: output row 1 still needs one padded row above the image.
    expect(bandInput({ ...conv, kernel: 5, stride: 1, padTop: 2, outHeight: 9 }, 1)).toEqual({ firstRow: 0, padTop: 1, height: 9 });
  });

  it('cut depthwise convs into bands by output height alone', () => {
    const program = buildProgram(buildNetwork('b0'), 'same', [2, 3, 224, 224]);
    for (const step of program.steps) {
      if (step.kind !== 'depthwise') continue;
      expect(step.bands).toBe(Math.min(step.outHeight, MAX_BANDS));
      const rows = Array.from({ length: step.bands }, (_, band) => bandRows(step.outHeight, step.bands, band));
      expect(rows.map(([start, end]) => end - start).reduce((a, b) => a + b)).toBe(step.outHeight);
    }
  });
});

interface Harness {
  kernels: ExecutorKernels;
  weights: WeightLayout;
}

const harnesses = new Map<string, Harness>();

beforeAll(async () => {
  for (const padding of ['same', 'symmetric'] as const) {
    const network = buildNetwork('b0');
    const kernels = (await instantiateCore()) as unknown as ExecutorKernels;
    const weights = layoutWeights(kernels, foldingRecipe(network), kernels.heap_base());
    packWeights(kernels, weights, parseSafetensors(createSyntheticWeights({ variant: 'b0', seed: 5 })), DEFAULT_BN_EPS[padding]);
    harnesses.set(padding, { kernels, weights });
  }
});

/** The step as one kernel call over the whole tensor, the way the core ran it before steps were cut. */
function wholeCall({ kernels, weights }: Harness, prepared: PreparedProgram, step: Step): () => void {
  const at = (id: string): number => prepared.offsets.get(id)!;
  const packed = (layer: string) => weights.tensors.get(layer)!;
  switch (step.kind) {
    case 'conv2d': {
      const w = packed(step.conv);
      return () => kernels.conv2d(at(step.reads[0]), step.n, step.height, step.width, step.inChannels, w.weights, w.bias,
        step.outChannels, step.kernel, step.kernel, step.stride, step.padTop, step.padLeft, step.outHeight, step.outWidth,
        at(step.writes[0]), activationCode(kernels, step.activation), step.residual === null ? 0 : at(step.residual));
    }
    case 'depthwise': {
      const w = packed(step.conv);
      return () => kernels.depthwise_conv(at(step.reads[0]), step.n, step.height, step.width, step.channels, w.weights, w.bias,
        step.kernel, step.stride, step.padTop, step.padLeft, step.outHeight, step.outWidth, at(step.writes[0]),
        activationCode(kernels, step.activation), 0);
    }
    case 'pointwise': {
      const w = packed(step.conv);
      const code = activationCode(kernels, step.activation);
      if (step.gatedWeights !== null) {
        // Each image's rows in one call, with that image's gated weights.
        const n = prepared.program.n;
        const [rows, k, outChannels] = [step.rows / n, step.inChannels, step.outChannels];
        const weightBytes = Math.ceil(outChannels / 16) * 16 * k * 4;
        return () => {
          for (let b = 0; b < n; b++) {
            kernels.gemm(at(step.reads[0]) + b * rows * k * 4, rows, k, at(step.gatedWeights!) + b * weightBytes, w.bias, outChannels,
              at(step.writes[0]) + b * rows * outChannels * 4, code, step.residual === null ? 0 : at(step.residual) + b * rows * outChannels * 4);
          }
        };
      }
      return () => kernels.gemm(at(step.reads[0]), step.rows, step.inChannels, w.weights, w.bias, step.outChannels,
        at(step.writes[0]), code, step.residual === null ? 0 : at(step.residual));
    }
    case 'gate-weights': {
      const w = packed(step.conv);
      const weightFloats = Math.ceil(step.outChannels / 16) * 16 * step.inChannels;
      return () => {
        for (let b = 0; b < step.n; b++) {
          kernels.gemm_scale_inputs(w.weights, step.inChannels, step.outChannels, at(step.reads[0]) + b * step.inChannels * 4,
            at(step.writes[0]) + b * weightFloats * 4);
        }
      };
    }
    case 'channel-scale':
      return () => kernels.channel_scale(at(step.reads[0]), step.n, step.spatial, step.channels, at(step.reads[1]));
    default:
      throw new Error(`${step.kind} is a single unit`);
  }
}

/** Per-band channel sums of a depthwise output `[n, outH, outW, c]` the way the kernel adds them: float32, raster order. */
function rasterBandSums(output: Float32Array, step: Extract<Step, { kind: 'depthwise' }>): Float32Array {
  const { n, outHeight, outWidth, channels: c, bands } = step;
  const sums = new Float32Array(n * bands * c); // [n, bands, c]
  for (let b = 0; b < n; b++) {
    for (let band = 0; band < bands; band++) {
      const [start, end] = bandRows(outHeight, bands, band);
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let p = start * outWidth; p < end * outWidth; p++) sum = Math.fround(sum + output[((b * outHeight) * outWidth + p) * c + ch]);
        sums[(b * bands + band) * c + ch] = sum;
      }
    }
  }
  return sums;
}

/**
 * Runs `program` step by step through its units; for every step cut into several units, also
 * runs the whole call on the same input and compares the bits. Returns how many steps were cut.
 */
function checkProgram(harness: Harness, program: Program): number {
  const { kernels, weights } = harness;
  const prepared = prepareProgram(kernels, program, planProgramMemory(program), weights, weights.end);
  ensureMemory(kernels.memory, prepared.end, 'the test program');
  const view = (id: string): Float32Array =>
    new Float32Array(kernels.memory.buffer, prepared.offsets.get(id)!, elementCount(program.buffers.get(id)!.shape));
  view(program.input).set(randomFloats(mulberry32(program.height * 31 + program.n), elementCount(program.buffers.get(program.input)!.shape), 2));
  let cut = 0;
  program.steps.forEach((step, index) => {
    const units = prepared.units[index];
    const label = `${step.module} (${step.kind}, ${units.length} units)`;
    if (units.length === 1) {
      units[0]();
      return;
    }
    cut++;
    const output = step.writes[0];
    const inPlace = step.reads.includes(output);
    const before = view(output).slice();
    if (!inPlace) view(output).fill(NaN); // a unit that misses some output leaves NaN behind
    for (const unit of units) unit();
    const byUnits = view(output).slice();
    view(output).set(before);
    wholeCall(harness, prepared, step)();
    expectSameBits(byUnits, view(output).slice(), label);
    if (step.kind === 'depthwise' && step.sums !== null) expectSameBits(view(step.sums).slice(), rasterBandSums(byUnits, step), `${label} band sums`);
  });
  return cut;
}

describe('every step cut into units gives the bits of the whole call', () => {
  const cases: [PaddingMode, [number, number, number, number]][] = [
    ['same', [1, 3, 224, 224]], // the largest units: 49 GEMM units of 256 rows, 16 bands
    ['same', [2, 3, 67, 45]], // odd sides, a batch: bands cross no image, padding only at image edges
    ['symmetric', [1, 3, 57, 70]],
    ['same', [2, 3, 32, 32]], // 1x1 maps at the end: GEMMs cut by columns
  ];
  for (const [padding, shape] of cases) {
    it(`b0 ${padding} ${shape.join('x')}`, () => {
      const program = buildProgram(buildNetwork('b0'), padding, shape, { probabilities: true });
      const cut = checkProgram(harnesses.get(padding)!, program);
      expect(cut, 'steps cut into several units').toBeGreaterThan(program.steps.length / 3);
    });
  }
});
