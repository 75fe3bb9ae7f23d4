/**
 * Types of the core's squeeze-and-excitation exports (assembly/squeeze-excite.ts). The two
 * fully-connected layers take their weights unpacked, in PyTorch layout.
 * Pointers are byte offsets into the core's memory; tensors are float32.
 */

type Pointer = number;

export interface SqueezeExciteExports {
  /**
   * gate `[n, c]` = sigmoid(We · swish(Wr · (channelSums / spatial) + br) + be) per image, with
   * channelSums `[n, c]`, reduceWeight `[r, c]`, reduceBias `[r]`, expandWeight `[c, r]`,
   * expandBias `[c]` and hidden a scratch of `[r]` floats.
   */
  squeeze_excite_gate(
    channelSums: Pointer, n: number, c: number, spatial: number, reduceWeight: Pointer, reduceBias: Pointer,
    r: number, expandWeight: Pointer, expandBias: Pointer, hidden: Pointer, gate: Pointer,
  ): void;
  /** data `[n, hw, c]` *= gate `[n, c]` per image and channel, in place (one multiply: exact to round). */
  channel_scale(data: Pointer, n: number, hw: number, c: number, gate: Pointer): void;
}
