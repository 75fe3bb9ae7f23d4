// Transposes between PyTorch's NCHW and the core's NHWC. Pure data movement: values are copied
// as 32-bit patterns, so every bit (NaN payloads included) survives.

/** input: [n, c, h, w] -> output: [n, h, w, c]. */
export function nchw_to_nhwc(input: usize, n: i32, c: i32, h: i32, w: i32, output: usize): void {
  const spatial = h * w;
  const imageBytes = <usize>c * <usize>spatial << 2;
  const pixelBytes = <usize>c << 2;
  for (let b = 0; b < n; b++) {
    const source = input + <usize>b * imageBytes; // [c, h*w]
    const destination = output + <usize>b * imageBytes; // [h*w, c]
    for (let channel = 0; channel < c; channel++) {
      let from = source + (<usize>channel * <usize>spatial << 2);
      let to = destination + (<usize>channel << 2);
      for (let p = 0; p < spatial; p++) {
        store<u32>(to, load<u32>(from));
        from += 4;
        to += pixelBytes;
      }
    }
  }
}

/** input: [n, h, w, c] -> output: [n, c, h, w]. */
export function nhwc_to_nchw(input: usize, n: i32, h: i32, w: i32, c: i32, output: usize): void {
  const spatial = h * w;
  const imageBytes = <usize>c * <usize>spatial << 2;
  const pixelBytes = <usize>c << 2;
  for (let b = 0; b < n; b++) {
    const source = input + <usize>b * imageBytes; // [h*w, c]
    const destination = output + <usize>b * imageBytes; // [c, h*w]
    for (let channel = 0; channel < c; channel++) {
      let from = source + (<usize>channel << 2);
      let to = destination + (<usize>channel * <usize>spatial << 2);
      for (let p = 0; p < spatial; p++) {
        store<u32>(to, load<u32>(from));
        from += pixelBytes;
        to += 4;
      }
    }
  }
}
