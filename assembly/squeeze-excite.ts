// Squeeze-and-excitation: a per-image, per-channel gate from the channel means, and the
// multiply that applies it.
//
// The two fully-connected layers are tiny (c x r with r = c_in / 4, at most a few hundred
// thousand multiply-adds per block), so their weights stay in the PyTorch layout, unpacked:
// reduce [r, c] and expand [c, r] both have the summed axis contiguous, which is what a dot
// product wants. The means come from per-channel sums (written by depthwise_conv), so the block's
// tensor is not read again; the division by the pixel count is applied after the reduce dot
// product (one division per hidden unit instead of one per channel; the same value up to rounding).
import { sigmoid_f32, sigmoid_f32x4, swish_f32 } from './math';

/**
 * a . b over `count` floats. Four lane sums over the vector part combined pairwise, then the
 * tail in order: the order depends on `count` alone.
 */
function dot(a: usize, b: usize, count: i32): f32 {
  const vectorBytes = <usize>(count & ~3) << 2;
  const totalBytes = <usize>count << 2;
  let sumVector = f32x4.splat(0);
  let offset: usize = 0;
  for (; offset < vectorBytes; offset += 16) {
    sumVector = f32x4.add(sumVector, f32x4.mul(v128.load(a + offset), v128.load(b + offset)));
  }
  let sum: f32 = (f32x4.extract_lane(sumVector, 0) + f32x4.extract_lane(sumVector, 1))
    + (f32x4.extract_lane(sumVector, 2) + f32x4.extract_lane(sumVector, 3));
  for (; offset < totalBytes; offset += 4) {
    sum += load<f32>(a + offset) * load<f32>(b + offset);
  }
  return sum;
}

/**
 * dot(rows + q * rowBytes, b, count) for q = 0..3, in the four lanes: each lane performs exactly
 * dot's operations in dot's order (its lane sums over whole vectors, combined pairwise, then the
 * tail in order), so a channel's gate has the same bits in a group of four as alone.
 */
// @ts-ignore: decorator
@inline function dot4(rows: usize, rowBytes: usize, b: usize, count: i32): v128 {
  const vectorBytes = <usize>(count & ~3) << 2;
  const totalBytes = <usize>count << 2;
  const row0 = rows, row1 = rows + rowBytes, row2 = row1 + rowBytes, row3 = row2 + rowBytes;
  let sum0 = f32x4.splat(0), sum1 = f32x4.splat(0), sum2 = f32x4.splat(0), sum3 = f32x4.splat(0);
  let offset: usize = 0;
  for (; offset < vectorBytes; offset += 16) {
    const x = v128.load(b + offset);
    sum0 = f32x4.add(sum0, f32x4.mul(v128.load(row0 + offset), x));
    sum1 = f32x4.add(sum1, f32x4.mul(v128.load(row1 + offset), x));
    sum2 = f32x4.add(sum2, f32x4.mul(v128.load(row2 + offset), x));
    sum3 = f32x4.add(sum3, f32x4.mul(v128.load(row3 + offset), x));
  }
  // Transpose, so lane q of lanes{k} is lane k of sum{q}: then (lanes0 + lanes1) + (lanes2 + lanes3)
  // is dot's pairwise combination, for all four rows at once.
  const low01 = i32x4.shuffle(sum0, sum1, 0, 4, 1, 5), low23 = i32x4.shuffle(sum2, sum3, 0, 4, 1, 5);
  const high01 = i32x4.shuffle(sum0, sum1, 2, 6, 3, 7), high23 = i32x4.shuffle(sum2, sum3, 2, 6, 3, 7);
  const lanes0 = i32x4.shuffle(low01, low23, 0, 1, 4, 5), lanes1 = i32x4.shuffle(low01, low23, 2, 3, 6, 7);
  const lanes2 = i32x4.shuffle(high01, high23, 0, 1, 4, 5), lanes3 = i32x4.shuffle(high01, high23, 2, 3, 6, 7);
  let sum = f32x4.add(f32x4.add(lanes0, lanes1), f32x4.add(lanes2, lanes3));
  for (; offset < totalBytes; offset += 4) {
    let column = v128.load32_zero(row0 + offset);
    column = v128.load32_lane(row1 + offset, column, 1);
    column = v128.load32_lane(row2 + offset, column, 2);
    column = v128.load32_lane(row3 + offset, column, 3);
    sum = f32x4.add(sum, f32x4.mul(column, v128.load32_splat(b + offset)));
  }
  return sum;
}

/**
 * gate[b] = sigmoid(We · swish(Wr · mean[b] + br) + be), mean[b] = channelSums[b] / spatial.
 * channelSums: [n, c]; reduceWeight: [r, c]; reduceBias: [r]; expandWeight: [c, r];
 * expandBias: [c]; hidden: scratch [r]; gate: [n, c], written.
 */
export function squeeze_excite_gate(
  channelSums: usize, n: i32, c: i32, spatial: i32,
  reduceWeight: usize, reduceBias: usize, r: i32,
  expandWeight: usize, expandBias: usize,
  hidden: usize, gate: usize,
): void {
  const channelBytes = <usize>c << 2;
  const hiddenBytes = <usize>r << 2;
  const count: f32 = <f32>spatial;
  for (let b = 0; b < n; b++) {
    const sums = channelSums + <usize>b * channelBytes; // [c]
    const gates = gate + <usize>b * channelBytes; // [c]
    for (let j = 0; j < r; j++) {
      const reduced = dot(reduceWeight + <usize>j * channelBytes, sums, c) / count;
      store<f32>(hidden + (<usize>j << 2), swish_f32(reduced + load<f32>(reduceBias + (<usize>j << 2))));
    }
    // Four channels at a time: their four dots side by side, and one vector sigmoid.
    const quadEnd = c & ~3;
    let i = 0;
    for (; i < quadEnd; i += 4) {
      const expanded = dot4(expandWeight + <usize>i * hiddenBytes, hiddenBytes, hidden, r);
      const offset = <usize>i << 2;
      v128.store(gates + offset, sigmoid_f32x4(f32x4.add(expanded, v128.load(expandBias + offset))));
    }
    for (; i < c; i++) {
      const expanded = dot(expandWeight + <usize>i * hiddenBytes, hidden, r);
      store<f32>(gates + (<usize>i << 2), sigmoid_f32(expanded + load<f32>(expandBias + (<usize>i << 2))));
    }
  }
}

/** data[b, p, ch] *= gate[b, ch], in place. data: [n, hw, c]; gate: [n, c]. */
export function channel_scale(data: usize, n: i32, hw: i32, c: i32, gate: usize): void {
  const pixelBytes = <usize>c << 2;
  const vectorBytes = <usize>(c & ~3) << 2;
  for (let b = 0; b < n; b++) {
    const gates = gate + <usize>b * pixelBytes; // [c]
    let pixel = data + <usize>b * <usize>hw * pixelBytes; // [c]
    for (let p = 0; p < hw; p++) {
      let offset: usize = 0;
      for (; offset < vectorBytes; offset += 16) {
        v128.store(pixel + offset, f32x4.mul(v128.load(pixel + offset), v128.load(gates + offset)));
      }
      for (; offset < pixelBytes; offset += 4) {
        store<f32>(pixel + offset, load<f32>(pixel + offset) * load<f32>(gates + offset));
      }
      pixel += pixelBytes;
    }
  }
}
