/**
 * Squeeze-and-excitation (Hu et al., 2018), as EfficientNet uses it: per image, squeeze each
 * channel to its mean, pass the means through a bottleneck of r units (1x1 conv with bias,
 * swish), expand back to c (1x1 conv with bias), and squash with a sigmoid into a gate in (0, 1)
 * that scales the channel. Weights in PyTorch layout, float64 sums.
 */
import { referenceSigmoid, referenceSwish } from './math.js';

export interface SqueezeExciteWeights {
  readonly reduceWeight: Float32Array; // [r, c] (conv_reduce.weight [r, c, 1, 1])
  readonly reduceBias: Float32Array; // [r]
  readonly expandWeight: Float32Array; // [c, r] (conv_expand.weight [c, r, 1, 1])
  readonly expandBias: Float32Array; // [c]
}

/**
 * channelSums: [n, c], each image's per-channel sum over `spatial` pixels (so the mean is
 * sum / spatial). Returns the gate [n, c].
 */
export function referenceSqueezeExcite(
  channelSums: Float32Array,
  [n, c]: readonly [number, number],
  spatial: number,
  { reduceWeight, reduceBias, expandWeight, expandBias }: SqueezeExciteWeights,
): Float32Array {
  const r = reduceBias.length;
  const gate = new Float32Array(n * c); // [n, c]
  const hidden = new Float64Array(r); // [r]
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < r; j++) {
      let sum = reduceBias[j];
      for (let ch = 0; ch < c; ch++) sum += reduceWeight[j * c + ch] * (channelSums[b * c + ch] / spatial);
      hidden[j] = referenceSwish(sum);
    }
    for (let ch = 0; ch < c; ch++) {
      let sum = expandBias[ch];
      for (let j = 0; j < r; j++) sum += expandWeight[ch * r + j] * hidden[j];
      gate[b * c + ch] = referenceSigmoid(sum);
    }
  }
  return gate;
}

/** data: [n, hw, c]; gate: [n, c]. Returns data with each image's channels scaled by its gate. */
export function referenceChannelScale(
  data: Float32Array,
  [n, hw, c]: readonly [number, number, number],
  gate: Float32Array,
): Float32Array {
  const scaled = new Float32Array(n * hw * c); // [n, hw, c]
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < hw; p++) {
      for (let ch = 0; ch < c; ch++) scaled[(b * hw + p) * c + ch] = data[(b * hw + p) * c + ch] * gate[b * c + ch];
    }
  }
  return scaled;
}
