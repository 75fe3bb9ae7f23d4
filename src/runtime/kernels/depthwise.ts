/**
 * Types of the core's depthwise convolution exports (assembly/depthwise.ts).
 * Pointers are byte offsets into the core's memory; tensors are float32, activations NHWC.
 */

type Pointer = number;

export interface DepthwiseExports {
  /** Floats depthwise_pack writes: k * k * (channels rounded up to a multiple of 4). */
  depthwise_packed_floats(channels: number, kernel: number): number;
  /** Repacks PyTorch `[c, 1, k, k]` weights into `[ceil(c/4), k*k, 4]` (per channel block), padding lanes zero. */
  depthwise_pack(source: Pointer, channels: number, kernel: number, destination: Pointer): void;
  /**
   * output `[n, outH, outW, c]` = act(depthwise(input `[n, h, w, c]`) + bias `[c]`), any kernel size
   * (3 and 5 unrolled) and stride. If channelSums is not 0, it is overwritten with each image's
   * per-channel sum of the activated output, `[n, c]`, for squeeze-excite. Output bits depend only
   * on position; sums only on the image.
   */
  depthwise_conv(
    input: Pointer, n: number, h: number, w: number, c: number, packedWeights: Pointer, bias: Pointer,
    kernel: number, stride: number, padTop: number, padLeft: number, outH: number, outW: number,
    output: Pointer, activation: number, channelSums: Pointer,
  ): void;
}
