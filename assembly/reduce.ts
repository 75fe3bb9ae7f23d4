// Sums of partial results computed band by band. The depthwise conv runs in fixed bands of output
// rows (so threads can share it), and each band writes its own per-channel sums; this adds the
// bands back together for squeeze-excite.
//
// Determinism: every output channel is ((band 0 + band 1) + band 2) + ... in band order, in the
// 16-channel tiles, the 4-channel vectors and the scalar tail alike, so its bits depend only on
// the band values, never on the channel count or which path handled it.

/**
 * partials: [n, bands, c] -> output: [n, c], output[b, ch] = sum over bands of partials[b, band, ch],
 * added in band order. partials and output must not overlap.
 */
export function sum_bands(partials: usize, n: i32, bands: i32, c: i32, output: usize): void {
  const channelBytes = <usize>c << 2;
  const tileBytes = <usize>(c & ~15) << 2;
  const vectorBytes = <usize>(c & ~3) << 2;
  for (let b = 0; b < n; b++) {
    const image = partials + <usize>b * <usize>bands * channelBytes; // [bands, c]
    const sums = output + <usize>b * channelBytes; // [c]
    let offset: usize = 0;
    // Four independent vectors per band: the adds of one channel form a chain, so several chains
    // side by side keep the adder busy.
    for (; offset < tileBytes; offset += 64) {
      let at = image + offset;
      let sum0 = v128.load(at);
      let sum1 = v128.load(at, 16);
      let sum2 = v128.load(at, 32);
      let sum3 = v128.load(at, 48);
      for (let band = 1; band < bands; band++) {
        at += channelBytes;
        sum0 = f32x4.add(sum0, v128.load(at));
        sum1 = f32x4.add(sum1, v128.load(at, 16));
        sum2 = f32x4.add(sum2, v128.load(at, 32));
        sum3 = f32x4.add(sum3, v128.load(at, 48));
      }
      v128.store(sums + offset, sum0);
      v128.store(sums + offset, sum1, 16);
      v128.store(sums + offset, sum2, 32);
      v128.store(sums + offset, sum3, 48);
    }
    for (; offset < vectorBytes; offset += 16) {
      let at = image + offset;
      let sum = v128.load(at);
      for (let band = 1; band < bands; band++) {
        at += channelBytes;
        sum = f32x4.add(sum, v128.load(at));
      }
      v128.store(sums + offset, sum);
    }
    for (; offset < channelBytes; offset += 4) {
      let at = image + offset;
      let sum = load<f32>(at);
      for (let band = 1; band < bands; band++) {
        at += channelBytes;
        sum += load<f32>(at);
      }
      store<f32>(sums + offset, sum);
    }
  }
}
