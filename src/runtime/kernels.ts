/**
 * The core's exports with their types, and the constants read from the instance (never copied
 * by hand: `activationCode` asks the module).
 */
import type { Activation } from '../plan/program.js';
import { instantiateCore, type WasmSource } from './wasm.js';
import type { WasmGlobal, WasmMemory } from './wasm-types.js';

type Ptr = number;

export interface CoreKernels {
  readonly memory: WasmMemory;
  readonly ACTIVATION_NONE: WasmGlobal;
  readonly ACTIVATION_SWISH: WasmGlobal;
  readonly ACTIVATION_RELU6: WasmGlobal;
  readonly ACTIVATION_RELU: WasmGlobal;
  /** 1 in the relaxed-SIMD build, 0 in the deterministic one. */
  readonly RELAXED_SIMD: WasmGlobal;
  heap_base(): Ptr;

  // Pointwise conv / linear layer as GEMM: [rows, K] x packed [K, N] -> [rows, N].
  gemm_packed_floats(inChannels: number, outChannels: number): number;
  gemm_pack(source: Ptr, inChannels: number, outChannels: number, destination: Ptr): void;
  gemm(input: Ptr, rows: number, inChannels: number, packedWeights: Ptr, bias: Ptr, outChannels: number,
    output: Ptr, activation: number, residual: Ptr): void;
  gemm_scale_inputs(packedWeights: Ptr, inChannels: number, outChannels: number, scale: Ptr, destination: Ptr): void;

  // Dense kxk conv (the stem; EfficientNetV2's conv-bn-act and fused-MBConv expansion convs).
  conv2d_packed_floats(outChannels: number, inChannels: number, kernelHeight: number, kernelWidth: number): number;
  conv2d_pack(source: Ptr, outChannels: number, inChannels: number, kernelHeight: number, kernelWidth: number, destination: Ptr): void;
  conv2d(input: Ptr, n: number, height: number, width: number, inChannels: number, packedWeights: Ptr, bias: Ptr,
    outChannels: number, kernelHeight: number, kernelWidth: number, stride: number, padTop: number, padLeft: number,
    outHeight: number, outWidth: number, output: Ptr, activation: number, residual: Ptr): void;

  // Depthwise kxk conv with optional per-channel output sums for SE.
  depthwise_packed_floats(channels: number, kernel: number): number;
  depthwise_pack(source: Ptr, channels: number, kernel: number, destination: Ptr): void;
  depthwise_conv(input: Ptr, n: number, height: number, width: number, channels: number, packedWeights: Ptr, bias: Ptr,
    kernel: number, stride: number, padTop: number, padLeft: number, outHeight: number, outWidth: number,
    output: Ptr, activation: number, channelSums: Ptr): void;

  squeeze_excite_gate(channelSums: Ptr, n: number, channels: number, spatial: number, reduceWeight: Ptr, reduceBias: Ptr,
    squeezed: number, expandWeight: Ptr, expandBias: Ptr, hidden: Ptr, gate: Ptr): void;
  channel_scale(data: Ptr, n: number, spatial: number, channels: number, gate: Ptr): void;
  global_average_pool(input: Ptr, n: number, spatial: number, channels: number, output: Ptr): void;
  softmax(input: Ptr, rows: number, cols: number, output: Ptr): void;
  nchw_to_nhwc(input: Ptr, n: number, channels: number, height: number, width: number, output: Ptr): void;
  nhwc_to_nchw(input: Ptr, n: number, height: number, width: number, channels: number, output: Ptr): void;
  batchnorm_fold(weights: Ptr, outChannels: number, perOutput: number, gamma: Ptr, beta: Ptr, mean: Ptr,
    variance: Ptr, eps: number, biasOut: Ptr): void;
}

export async function loadKernels(source?: WasmSource): Promise<CoreKernels> {
  return (await instantiateCore(source)) as unknown as CoreKernels;
}

/** The core's code for an epilogue activation, read from the module's exported constants. */
export function activationCode(kernels: CoreKernels, activation: Activation): number {
  const codes: Record<Activation, WasmGlobal> = {
    none: kernels.ACTIVATION_NONE, swish: kernels.ACTIVATION_SWISH, relu6: kernels.ACTIVATION_RELU6, relu: kernels.ACTIVATION_RELU,
  };
  return Number(codes[activation].value);
}
