/**
 * BN folded into the conv before it, in float64, for graphs that other runtimes execute (the ONNX
 * exporter, the bench peers). It is independent of the core's own `batchnorm_fold` kernel on
 * purpose: a cross-check between two runtimes is only worth something if they do not share it.
 *
 *   scale = gamma / sqrt(var + eps)      w' = w * scale      b' = beta - mean * scale
 *
 * Each folded value is rounded to float32 once, at the end.
 */
import { readFloat32 } from '../weights/read.js';
import type { WeightSource } from '../weights/source.js';

export interface FoldedLayer {
  /** PyTorch layout `[out, in/groups, kh, kw]` or `[out, in]`, scaled per output channel. */
  readonly weight: Float32Array;
  readonly bias: Float32Array; // [out]
  readonly shape: readonly number[];
}

/** `conv`'s weight with BN `bn` folded in, or with its own `${conv}.bias` when `bn` is null. */
export function foldLayer(file: WeightSource, conv: string, bn: string | null, eps: number): FoldedLayer {
  const weight = readFloat32(file, `${conv}.weight`);
  const shape = file.tensors.get(`${conv}.weight`)!.shape;
  const out = shape[0];
  if (bn === null) {
    return { weight, bias: readFloat32(file, `${conv}.bias`), shape };
  }
  const [gamma, beta, mean, variance] = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => readFloat32(file, `${bn}.${k}`));
  const perOut = weight.length / out;
  const bias = new Float32Array(out); // [out]
  for (let o = 0; o < out; o++) {
    const scale = gamma[o] / Math.sqrt(variance[o] + eps);
    for (let i = 0; i < perOut; i++) weight[o * perOut + i] *= scale;
    bias[o] = beta[o] - mean[o] * scale;
  }
  return { weight, bias, shape };
}
