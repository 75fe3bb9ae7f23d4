// Dense k x k convolution over NHWC (the stem: 3 input channels, stride 2), vectorised over output
// channels. Weights are packed [kh, kw, cin, coutPadded] with coutPadded a multiple of 4 and the
// padding lanes zero, so a tap's weights for 4 (or 16) output channels are one (or four)
// consecutive vector loads.
//
// Technique: the output is made one row at a time. Pixels whose window covers every column go in
// pairs, 16 output channels at a time: for one window row, the (kx, ci) inputs of a pixel are
// kw * cin consecutive floats and so are the matching weight rows, so the pair is a small GEMM
// (2 pixels x 16 channels, 8 accumulators, each input broadcast once and each weight vector
// loaded once for both pixels) with no per-tap bookkeeping. The remaining pixels (the edges, an
// odd one out) and channels (past the last multiple of 16) go one pixel at a time, clipping the
// window to the image. Then the activation (swish, ReLU6 or ReLU) runs over the whole finished
// row, four vectors at a time, and the residual, if any, is added to it.
//
// Determinism: every output element has one accumulator that starts at its bias and adds
// input * weight over (ky, kx, ci) in that order, skipping taps that fall in the zero padding.
// The pair tile, the 16-wide and 4-wide single-pixel tiles and the partial last block all do
// exactly this per lane, and swish is the same operations wherever it is applied, so an element's
// bits depend only on its position and its channel's weights, never on cout or the batch size.
import { madd } from './madd';
import { activate_in_place, addInPlace } from './math';

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

// What the routines share about the current call, set once by conv2d. Module globals rather
// than an object because the core never allocates.
let inputChannels: i32 = 0;
let outputChannels: i32 = 0;
let kernelWidth: i32 = 0;
let imageWidth: i32 = 0;
let inputPixelBytes: usize = 0; // cin * 4
let outputPixelBytes: usize = 0; // cout * 4
let weightStepBytes: usize = 0; // coutPadded * 4: from one (ky, kx, ci) to the next
let packedBase: usize = 0; // [kh, kw, cin, coutPadded]
let biasBase: usize = 0; // [cout]

/**
 * Two output pixels `pairStep` input bytes apart whose windows cover all kw columns, window rows
 * [kyBegin, kyEnd), output channels [0, cout rounded down to 16), pre-activation. `window` is the
 * input address of the first pixel's tap (0, 0) (rows outside [kyBegin, kyEnd) are never read).
 */
function pixelPair(window: usize, pairStep: usize, kyBegin: i32, kyEnd: i32, out: usize): void {
  const runLength = kernelWidth * inputChannels; // the (kx, ci) taps of one window row, contiguous
  const rowBytes = <usize>imageWidth * inputPixelBytes;
  const step = weightStepBytes;
  const secondOut = out + outputPixelBytes;
  for (let co = 0; co + 16 <= outputChannels; co += 16) {
    const channelBytes = <usize>co << 2;
    let a0 = v128.load(biasBase + channelBytes), a1 = v128.load(biasBase + channelBytes, 16);
    let a2 = v128.load(biasBase + channelBytes, 32), a3 = v128.load(biasBase + channelBytes, 48);
    let b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    for (let ky = kyBegin; ky < kyEnd; ky++) {
      let x = window + <usize>ky * rowBytes;
      const xEnd = x + (<usize>runLength << 2);
      let weights = packedBase + <usize>(ky * runLength) * step + channelBytes;
      for (; x < xEnd; x += 4) {
        const w0 = v128.load(weights), w1 = v128.load(weights, 16), w2 = v128.load(weights, 32), w3 = v128.load(weights, 48);
        let value = v128.load32_splat(x);
        a0 = madd(a0, value, w0); a1 = madd(a1, value, w1); a2 = madd(a2, value, w2); a3 = madd(a3, value, w3);
        value = v128.load32_splat(x + pairStep);
        b0 = madd(b0, value, w0); b1 = madd(b1, value, w1); b2 = madd(b2, value, w2); b3 = madd(b3, value, w3);
        weights += step;
      }
    }
    v128.store(out + channelBytes, a0); v128.store(out + channelBytes, a1, 16);
    v128.store(out + channelBytes, a2, 32); v128.store(out + channelBytes, a3, 48);
    v128.store(secondOut + channelBytes, b0); v128.store(secondOut + channelBytes, b1, 16);
    v128.store(secondOut + channelBytes, b2, 32); v128.store(secondOut + channelBytes, b3, 48);
  }
}

/**
 * One output pixel, output channels [firstChannel, cout), taps with ky in [kyBegin, kyEnd) and kx
 * in [kxBegin, kxEnd), pre-activation. `window` is the (possibly outside) input address of tap
 * (0, 0); only in-image taps are dereferenced, and wrap-around address arithmetic makes them exact.
 */
function singlePixel(window: usize, kyBegin: i32, kyEnd: i32, kxBegin: i32, kxEnd: i32, firstChannel: i32, out: usize): void {
  const cin = inputChannels;
  const cout = outputChannels;
  const rowBytes = <usize>imageWidth * inputPixelBytes;
  const step = weightStepBytes;
  let co = firstChannel;
  for (; co + 16 <= cout; co += 16) {
    const channelBytes = <usize>co << 2;
    let acc0 = v128.load(biasBase + channelBytes);
    let acc1 = v128.load(biasBase + channelBytes, 16);
    let acc2 = v128.load(biasBase + channelBytes, 32);
    let acc3 = v128.load(biasBase + channelBytes, 48);
    for (let ky = kyBegin; ky < kyEnd; ky++) {
      for (let kx = kxBegin; kx < kxEnd; kx++) {
        let x = window + <usize>ky * rowBytes + <usize>kx * inputPixelBytes;
        let weights = packedBase + <usize>((ky * kernelWidth + kx) * cin) * step + channelBytes;
        for (let ci = 0; ci < cin; ci++) {
          const value = v128.load32_splat(x);
          acc0 = madd(acc0, value, v128.load(weights));
          acc1 = madd(acc1, value, v128.load(weights, 16));
          acc2 = madd(acc2, value, v128.load(weights, 32));
          acc3 = madd(acc3, value, v128.load(weights, 48));
          x += 4;
          weights += step;
        }
      }
    }
    v128.store(out + channelBytes, acc0);
    v128.store(out + channelBytes, acc1, 16);
    v128.store(out + channelBytes, acc2, 32);
    v128.store(out + channelBytes, acc3, 48);
  }
  for (; co < cout; co += 4) {
    const channelBytes = <usize>co << 2;
    const lanes = min(4, cout - co);
    let acc = loadLanes(biasBase + channelBytes, lanes);
    for (let ky = kyBegin; ky < kyEnd; ky++) {
      for (let kx = kxBegin; kx < kxEnd; kx++) {
        let x = window + <usize>ky * rowBytes + <usize>kx * inputPixelBytes;
        let weights = packedBase + <usize>((ky * kernelWidth + kx) * cin) * step + channelBytes;
        for (let ci = 0; ci < cin; ci++) {
          acc = madd(acc, v128.load32_splat(x), v128.load(weights));
          x += 4;
          weights += step;
        }
      }
    }
    if (lanes < 4) storeLanes(out + channelBytes, acc, lanes);
    else v128.store(out + channelBytes, acc);
  }
}

/**
 * input: [n, h, w, cin]; packedWeights: from conv2d_pack; bias: [cout];
 * output: [n, outH, outW, cout] = activation(conv(input) + bias), then + residual
 * ([n, outH, outW, cout], or 0 for none: EfficientNetV2's conv-bn-act blocks with a skip).
 * Input positions outside the image read as zero; padTop/padLeft place the window, and the
 * bottom/right padding is whatever outH/outW imply.
 */
export function conv2d(
  input: usize, n: i32, h: i32, w: i32, cin: i32,
  packedWeights: usize, bias: usize, cout: i32,
  kh: i32, kw: i32, stride: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  output: usize, activation: i32, residual: usize,
): void {
  inputChannels = cin;
  outputChannels = cout;
  kernelWidth = kw;
  imageWidth = w;
  inputPixelBytes = <usize>cin << 2;
  outputPixelBytes = <usize>cout << 2;
  weightStepBytes = <usize>paddedChannels(cout) << 2;
  packedBase = packedWeights;
  biasBase = bias;
  const rowBytes = <usize>w * inputPixelBytes;
  const strideBytes = <usize>stride * inputPixelBytes;
  const pairedChannels = cout & ~15;
  // Output columns whose window lies inside the image horizontally: ox*stride - padLeft >= 0 and
  // ox*stride - padLeft + kw <= w.
  const spanBegin = min(outW, (padLeft + stride - 1) / stride);
  const spanEnd = max(spanBegin, min(outW, w - kw + padLeft >= 0 ? (w - kw + padLeft) / stride + 1 : 0));
  for (let b = 0; b < n; b++) {
    const image = input + <usize>b * <usize>h * rowBytes; // [h, w, cin]
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * stride - padTop;
      const kyBegin = max(0, -iy0);
      const kyEnd = max(kyBegin, min(kh, h - iy0));
      const outRow = output + <usize>((b * outH + oy) * outW) * outputPixelBytes; // [outW, cout]
      // Address of tap (0, 0) for ox = 0; may lie outside the image, see singlePixel.
      const windowRow = image + <usize>iy0 * rowBytes - <usize>padLeft * inputPixelBytes;
      let ox = 0;
      for (; ox < outW; ox++) {
        const inSpan = ox >= spanBegin && ox < spanEnd;
        const window = windowRow + <usize>ox * strideBytes;
        const out = outRow + <usize>ox * outputPixelBytes;
        if (inSpan && ox + 1 < spanEnd && pairedChannels > 0) {
          pixelPair(window, strideBytes, kyBegin, kyEnd, out);
          singlePixel(window, kyBegin, kyEnd, 0, kw, pairedChannels, out);
          singlePixel(window + strideBytes, kyBegin, kyEnd, 0, kw, pairedChannels, out + outputPixelBytes);
          ox++;
        } else {
          const ix0 = ox * stride - padLeft;
          singlePixel(window, kyBegin, kyEnd, max(0, -ix0), min(kw, w - ix0), 0, out);
        }
      }
      activate_in_place(outRow, outW * cout, activation);
      if (residual != 0) addInPlace(outRow, residual + (outRow - output), outW * cout);
    }
  }
}
