/**
 * Packs a checkpoint into the core's memory: tensor by tensor, each is decoded straight into a
 * staging area of WebAssembly memory, BN is folded in place by the core, and the core re-lays it
 * out into its final slot. No second full copy of the weights ever exists in JavaScript, which is
 * what lets L2's 1.9 GB of weights fit.
 *
 * Memory layout: [static data | packed weights | arena]. During loading the arena region is
 * free, so it serves as staging.
 */
import type { FoldedTensor } from '../weights/recipe.js';
import type { WeightSource } from '../weights/source.js';
import type { CoreKernels } from './kernels.js';
import { ensureMemory, assertFitsWasm32 } from './memory-limits.js';

const FLOAT_BYTES = 4;
const ALIGN = 16;
const alignUp = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

export interface PackedTensor {
  readonly recipe: FoldedTensor;
  /** Byte offset of the packed weights. */
  readonly weights: number;
  /** Byte offset of the bias `[outChannels]`. */
  readonly bias: number;
}

export interface WeightLayout {
  readonly tensors: ReadonlyMap<string, PackedTensor>;
  /** First byte after the packed weights: where the arena starts. */
  readonly end: number;
  /** Bytes of staging needed while loading (raw tensor plus BN vectors). */
  readonly stagingBytes: number;
}

function packedFloats(kernels: CoreKernels, t: FoldedTensor): number {
  switch (t.packing) {
    case 'gemm': return kernels.gemm_packed_floats(t.inChannels, t.outChannels);
    case 'conv2d': return kernels.conv2d_packed_floats(t.outChannels, t.inChannels, t.kernel, t.kernel);
    case 'depthwise': return kernels.depthwise_packed_floats(t.outChannels, t.kernel);
    case 'se': return t.outChannels * t.inChannels;
  }
}

/** Decides every packed tensor's offset. Pure arithmetic: nothing is allocated. */
export function layoutWeights(kernels: CoreKernels, recipe: readonly FoldedTensor[], start: number): WeightLayout {
  const tensors = new Map<string, PackedTensor>();
  let cursor = alignUp(start);
  let stagingBytes = 0;
  for (const t of recipe) {
    const weights = cursor;
    cursor = alignUp(cursor + packedFloats(kernels, t) * FLOAT_BYTES);
    const bias = cursor;
    cursor = alignUp(cursor + t.outChannels * FLOAT_BYTES);
    tensors.set(t.layer, { recipe: t, weights, bias });
    const raw = t.outChannels * t.inChannels * t.kernel * t.kernel;
    stagingBytes = Math.max(stagingBytes, alignUp(raw * FLOAT_BYTES) + 4 * alignUp(t.outChannels * FLOAT_BYTES));
  }
  return { tensors, end: cursor, stagingBytes };
}

const view = (memory: WebAssembly.Memory, offset: number, floats: number): Float32Array =>
  new Float32Array(memory.buffer, offset, floats);

/**
 * Writes every tensor of `file` into its slot. The file has already been matched against the
 * network, so every name exists with the right shape.
 */
export function packWeights(kernels: CoreKernels, layout: WeightLayout, file: WeightSource, bnEps: number): void {
  assertFitsWasm32(layout.end + layout.stagingBytes, 'loading these weights');
  ensureMemory(kernels.memory, layout.end + layout.stagingBytes, 'loading these weights');
  const staging = layout.end;
  for (const { recipe: t, weights, bias } of layout.tensors.values()) {
    const perOutput = t.inChannels * t.kernel * t.kernel;
    const raw = staging; // [outChannels, perOutput]
    const bnBase = alignUp(raw + t.outChannels * perOutput * FLOAT_BYTES);
    const vector = (i: number): number => bnBase + i * alignUp(t.outChannels * FLOAT_BYTES); // [outChannels]
    const memory = kernels.memory;
    file.readInto(`${t.layer}.weight`, view(memory, raw, t.outChannels * perOutput));
    if (t.bn !== null) {
      const [gamma, beta, mean, variance] = [0, 1, 2, 3].map(vector);
      file.readInto(`${t.bn}.weight`, view(memory, gamma, t.outChannels));
      file.readInto(`${t.bn}.bias`, view(memory, beta, t.outChannels));
      file.readInto(`${t.bn}.running_mean`, view(memory, mean, t.outChannels));
      file.readInto(`${t.bn}.running_var`, view(memory, variance, t.outChannels));
      kernels.batchnorm_fold(raw, t.outChannels, perOutput, gamma, beta, mean, variance, bnEps, bias);
    } else if (t.bias !== null) {
      file.readInto(t.bias, view(memory, bias, t.outChannels));
    }
    switch (t.packing) {
      case 'gemm': kernels.gemm_pack(raw, t.inChannels, t.outChannels, weights); break;
      case 'conv2d': kernels.conv2d_pack(raw, t.outChannels, t.inChannels, t.kernel, t.kernel, weights); break;
      case 'depthwise': kernels.depthwise_pack(raw, t.outChannels, t.kernel, weights); break;
      case 'se': new Uint8Array(memory.buffer).copyWithin(weights, raw, raw + t.outChannels * perOutput * FLOAT_BYTES); break;
    }
  }
}
