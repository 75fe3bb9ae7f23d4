/**
 * Pointwise (1x1) convolution and fully-connected layer, the textbook way: every output is the
 * bias plus the dot product of one input row with one weight row, then the activation, then the
 * residual. NHWC pixels are rows, so a 1x1 conv over an image is exactly this. Float64 sums.
 */
import type { Activation } from '../../plan/program.js';
import { referenceActivate } from './math.js';

/**
 * input: [rows, K]; weight: [N, K] (PyTorch conv 1x1 or linear layout); bias: [N] or null;
 * residual: [rows, N] or null, added after the activation. Returns [rows, N].
 */
export function referencePointwise(
  input: Float32Array,
  rows: number,
  K: number,
  weight: Float32Array,
  bias: Float32Array | null,
  N: number,
  activation: Activation,
  residual: Float32Array | null,
): Float32Array {
  const output = new Float32Array(rows * N); // [rows, N]
  for (let row = 0; row < rows; row++) {
    for (let n = 0; n < N; n++) {
      let sum = bias === null ? 0 : bias[n];
      for (let k = 0; k < K; k++) {
        sum += input[row * K + k] * weight[n * K + k];
      }
      const activated = referenceActivate(sum, activation);
      output[row * N + n] = residual === null ? activated : activated + residual[row * N + n];
    }
  }
  return output;
}
