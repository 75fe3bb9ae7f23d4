/**
 * Runs a program on the WebAssembly core. Every argument of every kernel call (offsets, sizes,
 * activation codes) is resolved once here, so a forward pass is a loop over prepared calls with
 * no allocation and no lookups.
 *
 * Each step is resolved into fixed work units (`threads/work-units.ts`): the same kernel on
 * sub-ranges whose outputs do not overlap, so the units may run in any order or at once. One
 * thread runs them in order; a thread pool shares them out. The units are plain data (a
 * `CallPlan`), so a worker with its own instance of the core can bind the very same calls.
 */
import type { ArenaPlan } from '../plan/arena.js';
import { GEMM_PANEL_WIDTH, type Activation, type Program, type Step } from '../plan/program.js';
import { activationCode, type CoreKernels } from './kernels.js';
import type { ReduceExports } from './kernels/reduce.js';
import type { WeightLayout } from './packed-weights.js';
import {
  bandInput, convBands, cutsByColumns, gemmColumnRanges, gemmRowRanges, PANEL_WIDTH, pixelRanges, type Range,
} from './threads/work-units.js';

const FLOAT_BYTES = 4;

/** The exports a program calls. */
export type ExecutorKernels = CoreKernels & ReduceExports;

export type KernelName =
  | 'nchw_to_nhwc' | 'nhwc_to_nchw' | 'softmax' | 'conv2d' | 'depthwise_conv' | 'sum_bands' | 'gemm'
  | 'squeeze_excite_gate' | 'channel_scale' | 'gemm_scale_inputs' | 'global_average_pool';

/** One kernel call with every argument resolved to a number: plain data, so it can be posted to a worker. */
export interface KernelCall {
  readonly kernel: KernelName;
  readonly args: readonly number[];
}

/** Per step, its work units: calls writing disjoint memory, which may run in any order or at once. */
export type CallPlan = readonly (readonly KernelCall[])[];

export interface PreparedProgram {
  readonly program: Program;
  /** Absolute byte offset of each buffer. */
  readonly offsets: ReadonlyMap<string, number>;
  readonly plan: CallPlan;
  /** Per step, one zero-argument call per work unit, bound to this thread's instance. */
  readonly units: readonly (readonly (() => void)[])[];
  /** First byte after the arena. */
  readonly end: number;
}

/** Binds a plan's calls to an instance of the core (this thread's, or a worker's). */
export function bindCalls(kernels: ExecutorKernels, plan: CallPlan): (() => void)[][] {
  return plan.map((units) => units.map(({ kernel, args }) => {
    const fn = kernels[kernel] as (...values: number[]) => void;
    return () => fn(...args);
  }));
}

/** Resolves every step of `program` into work units over absolute addresses. */
export function planCalls(
  program: Program, offsets: ReadonlyMap<string, number>, weights: WeightLayout, hidden: number,
  activation: (name: Activation) => number,
): CallPlan {
  const at = (id: string): number => offsets.get(id)!;
  const packed = (layer: string) => weights.tensors.get(layer)!;
  return program.steps.map((step: Step): KernelCall[] => {
    switch (step.kind) {
      case 'nchw-to-nhwc':
        return [{ kernel: 'nchw_to_nhwc', args: [at(step.reads[0]), step.n, step.channels, step.height, step.width, at(step.writes[0])] }];
      case 'nhwc-to-nchw':
        return [{ kernel: 'nhwc_to_nchw', args: [at(step.reads[0]), step.n, step.height, step.width, step.channels, at(step.writes[0])] }];
      case 'softmax':
        return [{ kernel: 'softmax', args: [at(step.reads[0]), step.rows, step.cols, at(step.writes[0])] }];
      case 'conv2d': {
        // One unit per band of output rows per image: see bandInput for why a band is exact.
        const w = packed(step.conv);
        const [input, output, act] = [at(step.reads[0]), at(step.writes[0]), activation(step.activation)];
        const residual = step.residual === null ? 0 : at(step.residual); // [n, outH, outW, cout] like the output
        const inRow = step.width * step.inChannels * FLOAT_BYTES;
        const outRow = step.outWidth * step.outChannels * FLOAT_BYTES;
        return perImageBand(step.n, convBands(step.outHeight), (b, [o0, o1]) => {
          const band = bandInput(step, o0);
          const shift = (b * step.outHeight + o0) * outRow;
          return { kernel: 'conv2d', args: [input + (b * step.height + band.firstRow) * inRow, 1, band.height, step.width,
            step.inChannels, w.weights, w.bias, step.outChannels, step.kernel, step.kernel, step.stride, band.padTop,
            step.padLeft, o1 - o0, step.outWidth, output + shift, act, residual === 0 ? 0 : residual + shift] };
        });
      }
      case 'depthwise': {
        // The program's bands; each also writes its own slot of the per-band channel sums.
        const w = packed(step.conv);
        const [input, output, act] = [at(step.reads[0]), at(step.writes[0]), activation(step.activation)];
        const inRow = step.width * step.channels * FLOAT_BYTES;
        const outRow = step.outWidth * step.channels * FLOAT_BYTES;
        const sums = step.sums === null ? 0 : at(step.sums); // [n, bands, c]
        return perImageBand(step.n, convBands(step.outHeight, step.bands), (b, [o0, o1], band) => {
          const window = bandInput(step, o0);
          const bandSums = sums === 0 ? 0 : sums + (b * step.bands + band) * step.channels * FLOAT_BYTES;
          return { kernel: 'depthwise_conv', args: [input + (b * step.height + window.firstRow) * inRow, 1, window.height,
            step.width, step.channels, w.weights, w.bias, step.kernel, step.stride, window.padTop, step.padLeft, o1 - o0,
            step.outWidth, output + (b * step.outHeight + o0) * outRow, act, bandSums] };
        });
      }
      case 'sum-bands':
        return [{ kernel: 'sum_bands', args: [at(step.reads[0]), step.n, step.bands, step.channels, at(step.writes[0])] }];
      case 'pointwise': {
        const w = packed(step.conv);
        const [input, output, act] = [at(step.reads[0]), at(step.writes[0]), activation(step.activation)];
        const residual = step.residual === null ? 0 : at(step.residual);
        const { rows, inChannels: k, outChannels: n } = step;
        if (step.gatedWeights !== null) {
          // Each image has its own weights (scaled by its gate): units never span two images.
          const imageRows = rows / program.n;
          const imageWeights = packedBytes(k, n);
          return Array.from({ length: program.n }, (_, b) => gemmRowRanges(imageRows).map(([r0, r1]): KernelCall => {
            const row = b * imageRows + r0;
            return { kernel: 'gemm', args: [input + row * k * FLOAT_BYTES, r1 - r0, k, at(step.gatedWeights!) + b * imageWeights,
              w.bias, n, output + row * n * FLOAT_BYTES, act, residual === 0 ? 0 : residual + row * n * FLOAT_BYTES] };
          })).flat();
        }
        if (cutsByColumns(rows, n)) {
          // Too few rows to share: one unit per (row, group of weight panels). With one row the
          // output row stride never matters, so a unit is the GEMM over just those panels.
          return Array.from({ length: rows }, (_, row) => gemmColumnRanges(n).map(([c0, c1]): KernelCall => {
            const shift = (row * n + c0) * FLOAT_BYTES;
            return { kernel: 'gemm', args: [input + row * k * FLOAT_BYTES, 1, k, w.weights + (c0 / PANEL_WIDTH) * k * PANEL_WIDTH * FLOAT_BYTES,
              w.bias + c0 * FLOAT_BYTES, c1 - c0, output + shift, act, residual === 0 ? 0 : residual + shift] };
          })).flat();
        }
        return gemmRowRanges(rows).map(([r0, r1]) => ({ kernel: 'gemm', args: [input + r0 * k * FLOAT_BYTES, r1 - r0, k, w.weights,
          w.bias, n, output + r0 * n * FLOAT_BYTES, act, residual === 0 ? 0 : residual + r0 * n * FLOAT_BYTES] }));
      }
      case 'se-gate': {
        const reduce = packed(`${step.se}.conv_reduce`);
        const expand = packed(`${step.se}.conv_expand`);
        return [{ kernel: 'squeeze_excite_gate', args: [at(step.reads[0]), step.n, step.channels, step.spatial, reduce.weights,
          reduce.bias, step.squeezed, expand.weights, expand.bias, hidden, at(step.writes[0])] }];
      }
      case 'channel-scale': {
        const [data, gate] = [at(step.reads[0]), at(step.reads[1])];
        const pixel = step.channels * FLOAT_BYTES;
        return Array.from({ length: step.n }, (_, b) => pixelRanges(step.spatial, step.channels).map(([p0, p1]): KernelCall => (
          { kernel: 'channel_scale', args: [data + (b * step.spatial + p0) * pixel, 1, p1 - p0, step.channels, gate + b * pixel] }
        ))).flat();
      }
      case 'gate-weights': {
        // One unit per image: its gate `[c]` scales the layer's packed weights into its own copy.
        const w = packed(step.conv);
        const [gate, scaled] = [at(step.reads[0]), at(step.writes[0])];
        const imageWeights = packedBytes(step.inChannels, step.outChannels);
        return Array.from({ length: step.n }, (_, b): KernelCall => ({ kernel: 'gemm_scale_inputs', args: [w.weights,
          step.inChannels, step.outChannels, gate + b * step.inChannels * FLOAT_BYTES, scaled + b * imageWeights] }));
      }
      case 'global-average-pool':
        return [{ kernel: 'global_average_pool', args: [at(step.reads[0]), step.n, step.spatial, step.channels, at(step.writes[0])] }];
    }
  });
}

/** Bytes of a `[k, outChannels]` layer's packed GEMM weights: whole panels of 16 outputs. */
const packedBytes = (k: number, outChannels: number): number => Math.ceil(outChannels / GEMM_PANEL_WIDTH) * GEMM_PANEL_WIDTH * k * FLOAT_BYTES;

/** One call per (image, band of output rows), image-major. */
function perImageBand(n: number, bands: readonly Range[], call: (image: number, rows: Range, band: number) => KernelCall): KernelCall[] {
  return Array.from({ length: n }, (_, b) => bands.map((rows, band) => call(b, rows, band))).flat();
}

export function prepareProgram(
  kernels: ExecutorKernels, program: Program, arena: ArenaPlan, weights: WeightLayout, arenaStart: number,
): PreparedProgram {
  const offsets = new Map<string, number>();
  for (const [id, offset] of arena.offsets) offsets.set(id, arenaStart + offset);
  // One small scratch vector for the SE bottleneck, after the arena. SE gates run on one thread.
  const hidden = arenaStart + arena.bytes;
  const plan = planCalls(program, offsets, weights, hidden, (name) => activationCode(kernels, name));
  const maxSqueezed = Math.max(1, ...program.steps.map((s) => (s.kind === 'se-gate' ? s.squeezed : 0)));
  return { program, offsets, plan, units: bindCalls(kernels, plan), end: hidden + Math.ceil((maxSqueezed * 4) / 16) * 16 };
}
