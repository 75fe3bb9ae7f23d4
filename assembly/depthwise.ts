// Depthwise k x k convolution over NHWC, vectorised over channels: after the pointwise GEMMs this
// is where EfficientNet spends its time, and it is bound by memory traffic more than arithmetic.
//
// Technique (the one XNNPACK's wasmsimd dwconv kernels use): one output pixel at a time, channels
// innermost in blocks of 4, each block accumulating its k*k taps in a register. Weights are packed
// per channel block, [ceil(c/4), k*k, 4], so a block's taps are consecutive vectors read at
// constant offsets from one pointer. Output positions whose window lies inside the image take an
// interior path with no bounds checks (fully unrolled for k = 3 and k = 5); the rest take a path
// that clips the window's tap range once per pixel. Channels past the last multiple of 4 go
// through a scalar path doing the same operations as a vector lane.
//
// Where the time goes: with swish on, the activation costs more than the convolution. Both are
// bound by dependency chains rather than instruction count, so (1) each window row is summed
// separately and the row sums are added to the bias, which halves the chain of a 5x5 window, and
// (2) a pixel's pre-activation sums are written first and activated by a second, two-vectors-at-
// a-time pass over the same (L1-resident) channels.
//
// Determinism: every output element is bias + row(0) + row(1) + ... in ky order, where row(ky) is
// the sum of that row's in-image products in kx order, on every path; its bits depend only on its
// position. The optional per-channel sums (for squeeze-excite) add each image's activated outputs
// in raster order, so they depend only on the image.
import { ACTIVATION_SWISH } from './constants';
import { swish_f32, swish_vectors_in_place } from './math';

/** Bytes of one packed tap for one channel block: 4 floats. */
// @ts-ignore: decorator
@inline const TAP_BYTES: usize = 16;

/** Floats written by depthwise_pack: k * k * (channels rounded up to a multiple of 4). */
export function depthwise_packed_floats(channels: i32, kernel: i32): i32 {
  return kernel * kernel * ((channels + 3) & ~3);
}

/** source: PyTorch [c, 1, k, k] -> destination: [ceil(c/4), k*k, 4], channels past c zero. */
export function depthwise_pack(source: usize, channels: i32, kernel: i32, destination: usize): void {
  const taps = kernel * kernel;
  const blocks = (channels + 3) >> 2;
  for (let block = 0; block < blocks; block++) {
    for (let tap = 0; tap < taps; tap++) {
      for (let lane = 0; lane < 4; lane++) {
        const channel = block * 4 + lane;
        const value: f32 = channel < channels ? load<f32>(source + (<usize>(channel * taps + tap) << 2)) : 0;
        store<f32>(destination + (<usize>((block * taps + tap) * 4 + lane) << 2), value);
      }
    }
  }
}

// What the per-pixel routines share about the current call, set once by depthwise_conv. Module
// globals rather than an object because the core never allocates.
let channelCount: i32 = 0;
let kernelSize: i32 = 0;
let vectorBlocks: i32 = 0; // full channel blocks: channels / 4
let pixelBytes: usize = 0; // one input pixel: channels * 4
let rowBytes: usize = 0; // one input row: width * channels * 4
let packedBase: usize = 0; // [ceil(c/4), k*k, 4]
let biasBase: usize = 0; // [c]
let activationCode: i32 = 0;

// @ts-ignore: decorator
@inline function product(x: usize, weight: v128): v128 {
  return f32x4.mul(v128.load(x), weight);
}

/** Sum of one 3-wide window row for one channel block; `weights` points at the row's first tap. */
// @ts-ignore: decorator
@inline function row3(x: usize, step: usize, weights: usize): v128 {
  let sum = product(x, v128.load(weights));
  sum = f32x4.add(sum, product(x + step, v128.load(weights, 16)));
  return f32x4.add(sum, product(x + step + step, v128.load(weights, 32)));
}

/** Sum of one 5-wide window row for one channel block. */
// @ts-ignore: decorator
@inline function row5(x: usize, step: usize, weights: usize): v128 {
  const x2 = x + step + step;
  const x4 = x2 + step + step;
  let sum = product(x, v128.load(weights));
  sum = f32x4.add(sum, product(x + step, v128.load(weights, 16)));
  sum = f32x4.add(sum, product(x2, v128.load(weights, 32)));
  sum = f32x4.add(sum, product(x2 + step, v128.load(weights, 48)));
  return f32x4.add(sum, product(x4, v128.load(weights, 64)));
}

/** Interior pixel, k = 3: `window` is the input address of tap (0, 0); writes pre-activation sums. */
function interiorPixel3(window: usize, out: usize): void {
  const step = pixelBytes;
  const row = rowBytes;
  const blocks = vectorBlocks;
  let weights = packedBase;
  let bias = biasBase;
  for (let block = 0; block < blocks; block++) {
    let acc = f32x4.add(v128.load(bias), row3(window, step, weights));
    acc = f32x4.add(acc, row3(window + row, step, weights + 3 * TAP_BYTES));
    acc = f32x4.add(acc, row3(window + row + row, step, weights + 6 * TAP_BYTES));
    v128.store(out, acc);
    window += 16;
    weights += 9 * TAP_BYTES;
    bias += 16;
    out += 16;
  }
}

/** Interior pixel, k = 5. */
function interiorPixel5(window: usize, out: usize): void {
  const step = pixelBytes;
  const row = rowBytes;
  const blocks = vectorBlocks;
  let weights = packedBase;
  let bias = biasBase;
  for (let block = 0; block < blocks; block++) {
    const row2 = window + row + row;
    const row4 = row2 + row + row;
    let acc = f32x4.add(v128.load(bias), row5(window, step, weights));
    acc = f32x4.add(acc, row5(window + row, step, weights + 5 * TAP_BYTES));
    acc = f32x4.add(acc, row5(row2, step, weights + 10 * TAP_BYTES));
    acc = f32x4.add(acc, row5(row2 + row, step, weights + 15 * TAP_BYTES));
    acc = f32x4.add(acc, row5(row4, step, weights + 20 * TAP_BYTES));
    v128.store(out, acc);
    window += 16;
    weights += 25 * TAP_BYTES;
    bias += 16;
    out += 16;
  }
}

/**
 * Any pixel, any k, vector blocks: only taps with ky in [kyBegin, kyEnd) and kx in
 * [kxBegin, kxEnd) are read. `window` is the (possibly outside) address of tap (0, 0); only
 * in-image taps are ever dereferenced, and wrap-around address arithmetic makes them exact.
 */
function clippedPixelVector(window: usize, kyBegin: i32, kyEnd: i32, kxBegin: i32, kxEnd: i32, out: usize): void {
  const kernel = kernelSize;
  const step = pixelBytes;
  const row = rowBytes;
  const blocks = vectorBlocks;
  const blockWeightBytes = <usize>(kernel * kernel) * TAP_BYTES;
  let weights = packedBase;
  let bias = biasBase;
  for (let block = 0; block < blocks; block++) {
    let acc = v128.load(bias);
    for (let ky = kyBegin; ky < kyEnd; ky++) {
      let x = window + <usize>ky * row + <usize>kxBegin * step;
      let weight = weights + <usize>(ky * kernel + kxBegin) * TAP_BYTES;
      let rowSum = product(x, v128.load(weight));
      for (let kx = kxBegin + 1; kx < kxEnd; kx++) {
        x += step;
        weight += TAP_BYTES;
        rowSum = f32x4.add(rowSum, product(x, v128.load(weight)));
      }
      acc = f32x4.add(acc, rowSum);
    }
    v128.store(out, acc);
    window += 16;
    weights += blockWeightBytes;
    bias += 16;
    out += 16;
  }
}

/**
 * The vector blocks' epilogue, once a pixel's pre-activation sums are in `out` (still in L1):
 * activation in place, then the running channel sums.
 */
function finishPixelVectors(out: usize, sums: usize): void {
  const blocks = vectorBlocks;
  if (activationCode == ACTIVATION_SWISH) swish_vectors_in_place(out, blocks);
  if (sums == 0) return;
  for (let block = 0; block < blocks; block++) {
    const offset = <usize>block << 4;
    v128.store(sums + offset, f32x4.add(v128.load(sums + offset), v128.load(out + offset)));
  }
}

/** Any pixel, channels from blocks*4 to the end, one at a time: the same operations as a lane. */
function clippedPixelScalar(
  window: usize, kyBegin: i32, kyEnd: i32, kxBegin: i32, kxEnd: i32, out: usize, sums: usize,
): void {
  const kernel = kernelSize;
  const taps = kernel * kernel;
  for (let channel = vectorBlocks * 4; channel < channelCount; channel++) {
    const channelBytes = <usize>channel << 2;
    // Packed index of (channel, tap 0): block channel / 4, lane channel % 4.
    const weights = packedBase + (<usize>((channel >> 2) * taps * 4 + (channel & 3)) << 2);
    let acc = load<f32>(biasBase + channelBytes);
    for (let ky = kyBegin; ky < kyEnd; ky++) {
      const x = window + <usize>ky * rowBytes + channelBytes;
      const weight = weights + <usize>(ky * kernel) * TAP_BYTES;
      let rowSum = load<f32>(x + <usize>kxBegin * pixelBytes) * load<f32>(weight + <usize>kxBegin * TAP_BYTES);
      for (let kx = kxBegin + 1; kx < kxEnd; kx++) {
        rowSum = rowSum + load<f32>(x + <usize>kx * pixelBytes) * load<f32>(weight + <usize>kx * TAP_BYTES);
      }
      acc = acc + rowSum;
    }
    const value = activationCode == ACTIVATION_SWISH ? swish_f32(acc) : acc;
    store<f32>(out + channelBytes, value);
    if (sums != 0) store<f32>(sums + channelBytes, load<f32>(sums + channelBytes) + value);
  }
}

/**
 * input: [n, h, w, c]; packedWeights: from depthwise_pack; bias: [c];
 * output: [n, outH, outW, c] = activation(depthwise(input) + bias);
 * channelSums: [n, c] overwritten with each image's per-channel sum of output, or 0 to skip.
 * Input positions outside the image read as zero; padTop/padLeft place the window and the
 * bottom/right padding is whatever outH/outW imply. Any kernel size and stride work;
 * k = 3 and k = 5 have unrolled interiors.
 */
export function depthwise_conv(
  input: usize, n: i32, h: i32, w: i32, c: i32,
  packedWeights: usize, bias: usize,
  kernel: i32, stride: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  output: usize, activation: i32, channelSums: usize,
): void {
  channelCount = c;
  kernelSize = kernel;
  vectorBlocks = c >> 2;
  pixelBytes = <usize>c << 2;
  rowBytes = <usize>w * pixelBytes;
  packedBase = packedWeights;
  biasBase = bias;
  activationCode = activation;
  const hasTail = (c & 3) != 0;
  const strideBytes = <usize>stride * pixelBytes;
  for (let b = 0; b < n; b++) {
    const image = input + <usize>b * <usize>h * rowBytes; // [h, w, c]
    const sums: usize = channelSums == 0 ? 0 : channelSums + <usize>b * pixelBytes; // [c]
    if (sums != 0) memory.fill(sums, 0, pixelBytes);
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * stride - padTop;
      const kyBegin = max(0, -iy0);
      const kyEnd = min(kernel, h - iy0);
      const rowInterior = kyBegin == 0 && kyEnd == kernel;
      const outRow = output + <usize>((b * outH + oy) * outW) * pixelBytes; // [outW, c]
      // Address of tap (0, 0) for ox = 0; may lie outside the image, see clippedPixelVector.
      const windowRow = image + <usize>iy0 * rowBytes - <usize>padLeft * pixelBytes;
      for (let ox = 0; ox < outW; ox++) {
        const window = windowRow + <usize>ox * strideBytes;
        const out = outRow + <usize>ox * pixelBytes;
        const ix0 = ox * stride - padLeft;
        const kxBegin = max(0, -ix0);
        const kxEnd = min(kernel, w - ix0);
        // A window with no column inside the image (only possible when padding >= kernel) reads no
        // rows at all: the clipped paths start each row with its first in-image product.
        const rowsEnd = kxBegin < kxEnd ? kyEnd : kyBegin;
        if (rowInterior && kxBegin == 0 && kxEnd == kernel) {
          if (kernel == 3) interiorPixel3(window, out);
          else if (kernel == 5) interiorPixel5(window, out);
          else clippedPixelVector(window, 0, kernel, 0, kernel, out);
        } else {
          clippedPixelVector(window, kyBegin, rowsEnd, kxBegin, kxEnd, out);
        }
        finishPixelVectors(out, sums);
        if (hasTail) clippedPixelScalar(window, kyBegin, rowsEnd, kxBegin, kxEnd, out, sums);
      }
    }
  }
}
