/**
 * Types of the core's GEMM exports (assembly/gemm.ts): pointwise (1x1) convolution and
 * fully-connected layers. Pointers are byte offsets into the core's memory.
 */

type Pointer = number;

export interface GemmExports {
  /** Floats gemm_pack writes for a `[outChannels, inChannels]` weight. */
  gemm_packed_floats(inChannels: number, outChannels: number): number;
  /** Repacks PyTorch `[outChannels, inChannels]` weights into the kernel's panels; buffers must not overlap. */
  gemm_pack(source: Pointer, inChannels: number, outChannels: number, destination: Pointer): void;
  /**
   * output [rows, outChannels] = act(input [rows, inChannels] · Wᵀ + bias) + residual.
   * bias and residual may be 0 (none); input, output and residual must be distinct buffers.
   * Any split of `rows` into separate calls gives bit-identical results.
   */
  gemm(
    input: Pointer, rows: number, inChannels: number, packedWeights: Pointer, bias: Pointer,
    outChannels: number, output: Pointer, activation: number, residual: Pointer,
  ): void;
  /** Runs a register-only f32x4 mul+add loop; each iteration is 48 flops. For measuring the machine's ceiling. */
  simd_peak_probe(iterations: number): number;
}

/** Flops of one simd_peak_probe iteration (6 f32x4.mul + 6 f32x4.add). */
export const PEAK_PROBE_FLOPS_PER_ITERATION = 48;

/** Flops of one gemm call, counting a multiply-add as two. */
export function gemmFlops(rows: number, inChannels: number, outChannels: number): number {
  return 2 * rows * inChannels * outChannels;
}
