// Dense k x k convolution over NHWC (the stem: 3 input channels, stride 2), vectorised over output
// channels. Weights are packed [kh, kw, cin, coutPadded] with coutPadded a multiple of 4 and the
// padding lanes zero, so a tap's weights for 4 (or 16) output channels are one (or four)
// consecutive vector loads, and each input value is broadcast once per group of 16 outputs.
//
// Determinism: every output element has one accumulator that starts at its bias and adds
// input * weight over (ky, kx, ci) in that order, skipping taps that fall in the zero padding.
// The 16-wide tiles, the 4-wide tiles and the partial last tile all do exactly this per lane, and
// swish is the same operations wherever it is applied, so an element's bits depend only on its
// position and its channel's weights, never on cout or the batch size.
import { ACTIVATION_SWISH } from './constants';
import { swish_f32x4, swish_vectors_in_place } from './math';

function paddedChannels(channels: i32): i32 {
  return (channels + 3) & ~3;
}

/** Floats written by conv2d_pack: kh * kw * cin * (cout rounded up to a multiple of 4). */
export function conv2d_packed_floats(cout: i32, cin: i32, kh: i32, kw: i32): i32 {
  return kh * kw * cin * paddedChannels(cout);
}

/** source: PyTorch [cout, cin, kh, kw] -> destination: [kh, kw, cin, coutPadded], zero padded. */
export function conv2d_pack(source: usize, cout: i32, cin: i32, kh: i32, kw: i32, destination: usize): void {
  const coutPadded = paddedChannels(cout);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      for (let ci = 0; ci < cin; ci++) {
        const row = destination + (<usize>(((ky * kw + kx) * cin + ci) * coutPadded) << 2); // [coutPadded]
        for (let co = 0; co < coutPadded; co++) {
          const value: f32 = co < cout ? load<f32>(source + (<usize>(((co * cin + ci) * kh + ky) * kw + kx) << 2)) : 0;
          store<f32>(row + (<usize>co << 2), value);
        }
      }
    }
  }
}

/** The first `lanes` (1..4) floats at `at` in the low lanes, zeros elsewhere, reading nothing beyond. */
function loadLanes(at: usize, lanes: i32): v128 {
  if (lanes >= 4) return v128.load(at);
  let vector = v128.load32_zero(at);
  if (lanes >= 2) vector = v128.load32_lane(at + 4, vector, 1);
  if (lanes >= 3) vector = v128.load32_lane(at + 8, vector, 2);
  return vector;
}

/** Stores the first `lanes` (1..3) lanes of `vector` at `at`, writing nothing beyond. */
function storeLanes(at: usize, vector: v128, lanes: i32): void {
  v128.store32_lane(at, vector, 0);
  if (lanes >= 2) v128.store32_lane(at + 4, vector, 1);
  if (lanes >= 3) v128.store32_lane(at + 8, vector, 2);
}

/**
 * input: [n, h, w, cin]; packedWeights: from conv2d_pack; bias: [cout];
 * output: [n, outH, outW, cout] = activation(conv(input) + bias).
 * Input positions outside the image read as zero; padTop/padLeft place the window, and the
 * bottom/right padding is whatever outH/outW imply.
 */
export function conv2d(
  input: usize, n: i32, h: i32, w: i32, cin: i32,
  packedWeights: usize, bias: usize, cout: i32,
  kh: i32, kw: i32, stride: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  output: usize, activation: i32,
): void {
  const coutPadded = paddedChannels(cout);
  const inputPixelBytes = <usize>cin << 2;
  const weightStepBytes = <usize>coutPadded << 2; // from one (ky, kx, ci) to the next
  const outputPixelBytes = <usize>cout << 2;
  for (let b = 0; b < n; b++) {
    const image = input + <usize>b * <usize>(h * w) * inputPixelBytes; // [h, w, cin]
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * stride - padTop;
      const kyBegin = max(0, -iy0);
      const kyEnd = min(kh, h - iy0);
      let outPixel = output + (<usize>((b * outH + oy) * outW) * outputPixelBytes); // [cout]
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * stride - padLeft;
        const kxBegin = max(0, -ix0);
        const kxEnd = min(kw, w - ix0);
        let co = 0;
        for (; co + 16 <= cout; co += 16) {
          const channelBytes = <usize>co << 2;
          let acc0 = v128.load(bias + channelBytes);
          let acc1 = v128.load(bias + channelBytes, 16);
          let acc2 = v128.load(bias + channelBytes, 32);
          let acc3 = v128.load(bias + channelBytes, 48);
          for (let ky = kyBegin; ky < kyEnd; ky++) {
            for (let kx = kxBegin; kx < kxEnd; kx++) {
              let x = image + <usize>((iy0 + ky) * w + ix0 + kx) * inputPixelBytes;
              let weights = packedWeights + <usize>((ky * kw + kx) * cin) * weightStepBytes + channelBytes;
              for (let ci = 0; ci < cin; ci++) {
                const value = v128.load32_splat(x);
                acc0 = f32x4.add(acc0, f32x4.mul(value, v128.load(weights)));
                acc1 = f32x4.add(acc1, f32x4.mul(value, v128.load(weights, 16)));
                acc2 = f32x4.add(acc2, f32x4.mul(value, v128.load(weights, 32)));
                acc3 = f32x4.add(acc3, f32x4.mul(value, v128.load(weights, 48)));
                x += 4;
                weights += weightStepBytes;
              }
            }
          }
          v128.store(outPixel + channelBytes, acc0);
          v128.store(outPixel + channelBytes, acc1, 16);
          v128.store(outPixel + channelBytes, acc2, 32);
          v128.store(outPixel + channelBytes, acc3, 48);
        }
        for (; co < cout; co += 4) {
          const channelBytes = <usize>co << 2;
          const lanes = min(4, cout - co);
          let acc = loadLanes(bias + channelBytes, lanes);
          for (let ky = kyBegin; ky < kyEnd; ky++) {
            for (let kx = kxBegin; kx < kxEnd; kx++) {
              let x = image + <usize>((iy0 + ky) * w + ix0 + kx) * inputPixelBytes;
              let weights = packedWeights + <usize>((ky * kw + kx) * cin) * weightStepBytes + channelBytes;
              for (let ci = 0; ci < cin; ci++) {
                acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(x), v128.load(weights)));
                x += 4;
                weights += weightStepBytes;
              }
            }
          }
          if (lanes < 4) {
            // The partial last block is activated here, before its partial store.
            storeLanes(outPixel + channelBytes, activation == ACTIVATION_SWISH ? swish_f32x4(acc) : acc, lanes);
          } else {
            v128.store(outPixel + channelBytes, acc);
          }
        }
        // Full vectors are activated together once the pixel is done: independent swish chains
        // side by side run much faster than each one right behind the sums it depends on.
        if (activation == ACTIVATION_SWISH) swish_vectors_in_place(outPixel, cout >> 2);
        outPixel += outputPixelBytes;
      }
    }
  }
}
