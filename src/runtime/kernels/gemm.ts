/**
 * Types of the core's GEMM exports (assembly/gemm.ts): pointwise (1x1) convolution and
 * fully-connected layers. Pointers are byte offsets into the core's memory.
 */
import type { WasmGlobal } from '../wasm-types.js';

type Pointer = number;

export interface GemmExports {
  /** Floats gemm_pack writes for a `[outChannels, inChannels]` weight. */
  gemm_packed_floats(inChannels: number, outChannels: number): number;
  /** Repacks PyTorch `[outChannels, inChannels]` weights into the kernel's panels; buffers must not overlap. */
  gemm_pack(source: Pointer, inChannels: number, outChannels: number, destination: Pointer): void;
  /**
   * destination = packedWeights (gemm_pack's layout) with input channel k's weights times
   * scale[k] (`[inChannels]`): the weights of the layer whose input is scaled per channel. One
   * rounding per weight; the buffers may be the same.
   */
  gemm_scale_inputs(packedWeights: Pointer, inChannels: number, outChannels: number, scale: Pointer, destination: Pointer): void;
  /**
   * output [rows, outChannels] = act(input [rows, inChannels] · Wᵀ + bias) + residual.
   * bias and residual may be 0 (none); input, output and residual must be distinct buffers.
   * Any split of `rows` into separate calls gives bit-identical results.
   */
  gemm(
    input: Pointer, rows: number, inChannels: number, packedWeights: Pointer, bias: Pointer,
    outChannels: number, output: Pointer, activation: number, residual: Pointer,
  ): void;
  /**
   * Runs a register-only loop of this build's multiply-add (f32x4 mul + add, or relaxed_madd in
   * the relaxed build), for measuring the machine's ceiling; PEAK_PROBE_MULTIPLY_ADDS per iteration.
   */
  simd_peak_probe(iterations: number): number;
  /** Scalar multiply-adds in one simd_peak_probe iteration (24 deterministic, 48 relaxed). */
  readonly PEAK_PROBE_MULTIPLY_ADDS: WasmGlobal;
}

/** Scalar multiply-adds one simd_peak_probe iteration of this core performs. */
export function peakProbeMultiplyAdds(core: GemmExports): number {
  return Number(core.PEAK_PROBE_MULTIPLY_ADDS.value);
}

/** Flops of one gemm call, counting a multiply-add as two. */
export function gemmFlops(rows: number, inChannels: number, outChannels: number): number {
  return 2 * rows * inChannels * outChannels;
}
