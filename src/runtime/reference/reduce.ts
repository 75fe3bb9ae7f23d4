/**
 * Adding up per-band partial sums. Unlike the other twins this one rounds to float32 after every
 * addition, on purpose: the order of the additions is the whole definition (it is what makes the
 * result independent of how many threads computed the bands), so the twin follows it exactly and
 * the core must match it bit for bit.
 */

/** partials: [n, bands, c]. Returns [n, c]: ((band 0 + band 1) + band 2) + ... per channel. */
export function referenceSumBands(partials: Float32Array, [n, bands, c]: readonly [number, number, number]): Float32Array {
  const sums = new Float32Array(n * c); // [n, c]
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let sum = partials[b * bands * c + ch];
      for (let band = 1; band < bands; band++) sum = Math.fround(sum + partials[(b * bands + band) * c + ch]);
      sums[b * c + ch] = sum;
    }
  }
  return sums;
}
