/**
 * Moving between PyTorch's NCHW (channels outermost) and the core's NHWC (channels innermost,
 * the SIMD axis). Element (b, ch, y, x) keeps its value; only its index changes.
 */

/** input: [n, c, h, w]. Returns [n, h, w, c]. */
export function nchwToNhwc(input: Float32Array, [n, c, h, w]: readonly [number, number, number, number]): Float32Array {
  const output = new Float32Array(n * h * w * c); // [n, h, w, c]
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) output[((b * h + y) * w + x) * c + ch] = input[((b * c + ch) * h + y) * w + x];
      }
    }
  }
  return output;
}

/** input: [n, h, w, c]. Returns [n, c, h, w]. */
export function nhwcToNchw(input: Float32Array, [n, h, w, c]: readonly [number, number, number, number]): Float32Array {
  const output = new Float32Array(n * c * h * w); // [n, c, h, w]
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) output[((b * c + ch) * h + y) * w + x] = input[((b * h + y) * w + x) * c + ch];
      }
    }
  }
  return output;
}
