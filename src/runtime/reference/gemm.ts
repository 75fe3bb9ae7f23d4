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

/** Output channels per packed weight panel in the core (`gemm_pack`). */
export const PANEL_WIDTH = 16;

/**
 * packed: weights [N, K] in the core's panel layout [ceil(N / 16), K, 16] (referencePackPanels);
 * scale: [K]. Returns the packed weights of the layer that sees its input channel k times
 * scale[k]: every [p, k, j] times scale[k], rounded to float32 once, as the core rounds it, so
 * both hold the same numbers (the zero padding too, which a negative factor turns into -0).
 */
export function referenceScalePanelInputs(packed: Float32Array, N: number, K: number, scale: Float32Array): Float32Array {
  const panels = Math.ceil(N / PANEL_WIDTH);
  const scaled = new Float32Array(panels * K * PANEL_WIDTH); // [panels, K, 16]
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < PANEL_WIDTH; j++) scaled[(p * K + k) * PANEL_WIDTH + j] = packed[(p * K + k) * PANEL_WIDTH + j] * scale[k];
    }
  }
  return scaled;
}

/** weight [N, K] in the core's panel layout [ceil(N / 16), K, 16]: output n of input k at [n / 16, k, n % 16], zeros past N. */
export function referencePackPanels(weight: Float32Array, N: number, K: number): Float32Array {
  const panels = Math.ceil(N / PANEL_WIDTH);
  const packed = new Float32Array(panels * K * PANEL_WIDTH); // [panels, K, 16]
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) packed[(Math.floor(n / PANEL_WIDTH) * K + k) * PANEL_WIDTH + (n % PANEL_WIDTH)] = weight[n * K + k];
  }
  return packed;
}

/** The inverse of referencePackPanels: panels [ceil(N / 16), K, 16] back to [N, K]. */
export function referenceUnpackPanels(packed: Float32Array, N: number, K: number): Float32Array {
  const weight = new Float32Array(N * K); // [N, K]
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) weight[n * K + k] = packed[(Math.floor(n / PANEL_WIDTH) * K + k) * PANEL_WIDTH + (n % PANEL_WIDTH)];
  }
  return weight;
}
