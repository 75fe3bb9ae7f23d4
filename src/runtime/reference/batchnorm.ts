/**
 * Folding an inference-mode BatchNorm into the convolution before it:
 *   BN(W·x) = s * (W·x) + (beta - mean * s),  s = gamma / sqrt(variance + eps)
 * so each output channel's weights are scaled by s and BN becomes a bias.
 */

export interface BatchNormParameters {
  readonly gamma: Float32Array; // [outChannels]
  readonly beta: Float32Array; // [outChannels]
  readonly mean: Float32Array; // [outChannels]
  readonly variance: Float32Array; // [outChannels]
}

export interface FoldedConv {
  readonly weight: Float32Array; // [outChannels, perOutput]
  readonly bias: Float32Array; // [outChannels]
}

/** weight: [outChannels, perOutput] (any conv weight flattened per output channel); returns new arrays. */
export function referenceBatchnormFold(
  weight: Float32Array,
  [outChannels, perOutput]: readonly [number, number],
  bn: BatchNormParameters,
  eps: number,
): FoldedConv {
  const folded = new Float32Array(outChannels * perOutput); // [outChannels, perOutput]
  const bias = new Float32Array(outChannels); // [outChannels]
  for (let o = 0; o < outChannels; o++) {
    const scale = bn.gamma[o] / Math.sqrt(bn.variance[o] + eps);
    bias[o] = bn.beta[o] - bn.mean[o] * scale;
    for (let i = 0; i < perOutput; i++) folded[o * perOutput + i] = weight[o * perOutput + i] * scale;
  }
  return { weight: folded, bias };
}
