/** Per-channel sums and means over the pixels of NHWC tensors, with float64 sums. */

/** input: [n, hw, c]. Returns [n, c]: each image's sum over its hw pixels. */
export function referenceChannelSums(input: Float32Array, [n, hw, c]: readonly [number, number, number]): Float32Array {
  const sums = new Float32Array(n * c); // [n, c]
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let p = 0; p < hw; p++) sum += input[(b * hw + p) * c + ch];
      sums[b * c + ch] = sum;
    }
  }
  return sums;
}

/** input: [n, hw, c]. Returns [n, c]: each image's mean over its hw pixels. */
export function referenceGlobalAveragePool(input: Float32Array, [n, hw, c]: readonly [number, number, number]): Float32Array {
  const means = new Float32Array(n * c); // [n, c]
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let p = 0; p < hw; p++) sum += input[(b * hw + p) * c + ch];
      means[b * c + ch] = sum / hw;
    }
  }
  return means;
}
