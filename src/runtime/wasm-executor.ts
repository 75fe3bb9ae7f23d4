/**
 * Runs a program on the WebAssembly core. Every argument of every kernel call (offsets, sizes,
 * activation codes) is resolved once here, so a forward pass is a loop over prepared calls with
 * no allocation and no lookups.
 */
import type { ArenaPlan } from '../plan/arena.js';
import type { Program, Step } from '../plan/program.js';
import { activationCode, type CoreKernels } from './kernels.js';
import type { WeightLayout } from './packed-weights.js';

export interface PreparedProgram {
  readonly program: Program;
  /** Absolute byte offset of each buffer. */
  readonly offsets: ReadonlyMap<string, number>;
  /** One zero-argument call per step, in order. */
  readonly calls: readonly (() => void)[];
  /** First byte after the arena. */
  readonly end: number;
}

export function prepareProgram(
  kernels: CoreKernels, program: Program, arena: ArenaPlan, weights: WeightLayout, arenaStart: number,
): PreparedProgram {
  const offsets = new Map<string, number>();
  for (const [id, offset] of arena.offsets) offsets.set(id, arenaStart + offset);
  const at = (id: string): number => offsets.get(id)!;
  const packed = (layer: string) => weights.tensors.get(layer)!;
  // One small scratch vector for the SE bottleneck, after the arena.
  const hidden = arenaStart + arena.bytes;
  const calls = program.steps.map((step: Step): (() => void) => {
    switch (step.kind) {
      case 'nchw-to-nhwc': {
        const [input, output] = [at(step.reads[0]), at(step.writes[0])];
        return () => kernels.nchw_to_nhwc(input, step.n, step.channels, step.height, step.width, output);
      }
      case 'nhwc-to-nchw': {
        const [input, output] = [at(step.reads[0]), at(step.writes[0])];
        return () => kernels.nhwc_to_nchw(input, step.n, step.height, step.width, step.channels, output);
      }
      case 'softmax': {
        const [input, output] = [at(step.reads[0]), at(step.writes[0])];
        return () => kernels.softmax(input, step.rows, step.cols, output);
      }
      case 'conv2d': {
        const w = packed(step.conv);
        const [input, output, act] = [at(step.reads[0]), at(step.writes[0]), activationCode(kernels, step.activation)];
        return () => kernels.conv2d(input, step.n, step.height, step.width, step.inChannels, w.weights, w.bias,
          step.outChannels, step.kernel, step.kernel, step.stride, step.padTop, step.padLeft, step.outHeight,
          step.outWidth, output, act);
      }
      case 'depthwise': {
        const w = packed(step.conv);
        const [input, output, act] = [at(step.reads[0]), at(step.writes[0]), activationCode(kernels, step.activation)];
        const sums = step.sums === null ? 0 : at(step.sums);
        return () => kernels.depthwise_conv(input, step.n, step.height, step.width, step.channels, w.weights, w.bias,
          step.kernel, step.stride, step.padTop, step.padLeft, step.outHeight, step.outWidth, output, act, sums);
      }
      case 'pointwise': {
        const w = packed(step.conv);
        const [input, output, act] = [at(step.reads[0]), at(step.writes[0]), activationCode(kernels, step.activation)];
        const residual = step.residual === null ? 0 : at(step.residual);
        return () => kernels.gemm(input, step.rows, step.inChannels, w.weights, w.bias, step.outChannels, output, act, residual);
      }
      case 'se-gate': {
        const reduce = packed(`${step.se}.conv_reduce`);
        const expand = packed(`${step.se}.conv_expand`);
        const [sums, gate] = [at(step.reads[0]), at(step.writes[0])];
        return () => kernels.squeeze_excite_gate(sums, step.n, step.channels, step.spatial, reduce.weights, reduce.bias,
          step.squeezed, expand.weights, expand.bias, hidden, gate);
      }
      case 'channel-scale': {
        const [data, gate] = [at(step.reads[0]), at(step.reads[1])];
        return () => kernels.channel_scale(data, step.n, step.spatial, step.channels, gate);
      }
      case 'global-average-pool': {
        const [input, output] = [at(step.reads[0]), at(step.writes[0])];
        return () => kernels.global_average_pool(input, step.n, step.spatial, step.channels, output);
      }
    }
  });
  const maxSqueezed = Math.max(1, ...program.steps.map((s) => (s.kind === 'se-gate' ? s.squeezed : 0)));
  return { program, offsets, calls, end: hidden + Math.ceil((maxSqueezed * 4) / 16) * 16 };
}
