/**
 * Types of the core's dense convolution exports (assembly/conv.ts), used for the stem and for
 * EfficientNetV2's full kxk convs.
 * Pointers are byte offsets into the core's memory; tensors are float32, activations NHWC.
 */

type Pointer = number;

export interface ConvExports {
  /** Floats conv2d_pack writes: kh * kw * cin * (cout rounded up to a multiple of 4). */
  conv2d_packed_floats(cout: number, cin: number, kh: number, kw: number): number;
  /** Repacks PyTorch `[cout, cin, kh, kw]` weights into `[kh, kw, cin, coutPadded]`, padding lanes zero. */
  conv2d_pack(source: Pointer, cout: number, cin: number, kh: number, kw: number, destination: Pointer): void;
  /**
   * output `[n, outH, outW, cout]` = act(conv(input `[n, h, w, cin]`) + bias `[cout]`), then +
   * residual `[n, outH, outW, cout]` (0 for none). Positions
   * outside the input read as zero; padTop/padLeft place the window, outH/outW imply the rest.
   * Bits depend only on an element's position and weights, never on cout or the batch size.
   */
  conv2d(
    input: Pointer, n: number, h: number, w: number, cin: number, packedWeights: Pointer, bias: Pointer,
    cout: number, kh: number, kw: number, stride: number, padTop: number, padLeft: number,
    outH: number, outW: number, output: Pointer, activation: number, residual: Pointer,
  ): void;
}
