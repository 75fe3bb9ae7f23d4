// Global average pooling over the spatial axis of an NHWC tensor, vectorised over channels.
// Each channel's sum runs over pixels in raster order, then divides once by the pixel count;
// the scalar channel tail does the same operations as a vector lane.

/** input: [n, hw, c] -> output: [n, c], the mean over hw. */
export function global_average_pool(input: usize, n: i32, hw: i32, c: i32, output: usize): void {
  const pixelBytes = <usize>c << 2;
  const vectorBytes = <usize>(c & ~3) << 2;
  const count: f32 = <f32>hw;
  const countVector = f32x4.splat(count);
  for (let b = 0; b < n; b++) {
    const sums = output + <usize>b * pixelBytes; // [c]
    memory.fill(sums, 0, pixelBytes);
    let pixel = input + <usize>b * <usize>hw * pixelBytes; // [c]
    for (let p = 0; p < hw; p++) {
      let offset: usize = 0;
      for (; offset < vectorBytes; offset += 16) {
        v128.store(sums + offset, f32x4.add(v128.load(sums + offset), v128.load(pixel + offset)));
      }
      for (; offset < pixelBytes; offset += 4) {
        store<f32>(sums + offset, load<f32>(sums + offset) + load<f32>(pixel + offset));
      }
      pixel += pixelBytes;
    }
    let offset: usize = 0;
    for (; offset < vectorBytes; offset += 16) {
      v128.store(sums + offset, f32x4.div(v128.load(sums + offset), countVector));
    }
    for (; offset < pixelBytes; offset += 4) {
      store<f32>(sums + offset, load<f32>(sums + offset) / count);
    }
  }
}
