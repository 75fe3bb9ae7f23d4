// Depthwise k x k convolution over NHWC, vectorised over channels: after the pointwise GEMMs this
// is where EfficientNet spends its time.
//
// Technique: the output is produced one row at a time, in three steps.
// 1. Pre-activation sums. Weights are packed per channel block, [ceil(c/4), k*k, 4], so a
//    block's taps are consecutive vectors. Output pixels whose window covers every column of the
//    image span (all but the few at the left and right edges) go block by block, and within a
//    block along the row, so a block's weights are fetched once per row, not once per pixel:
//    - k = 3: one pixel per loop trip with the block's nine weight vectors in registers.
//    - k = 5: window row by window row, the row's five weight vectors in registers, two output
//      pixels per loop trip (their windows share four input vectors of a window row at stride 1,
//      three at stride 2), each pixel's running sum waiting in the output (L1) between window
//      rows.
//    Windows cut by the top or bottom edge take a path with fewer window rows; the edge pixels
//    one that clips the window's tap range once per pixel. Channels past the last multiple of 4
//    go through a scalar path doing the same operations as a vector lane.
// 2. Swish over the whole row (contiguous, still in L1), four independent vectors at a time:
//    the activation costs about as much as a 3x3 convolution, and side-by-side chains are what
//    make it fast (see math.ts).
// 3. The running per-channel sums for squeeze-excite, block by block down the row's pixels.
//
// Why these tiles and not wider ones (measured on 2026-12-03 with bench/depthwise.bench.ts and
// shapes cut to the interior, Node 20, 2-core AMD EPYC; V8 gives wasm 15 vector registers on x64
// and issues all of a loop trip's loads before the arithmetic that does not feed a store):
// - k = 3 interiors already run at 80-86% of the register-only ceiling one pixel at a time. A
//   2-pixel tile (9 weights + 2 sums + 4 inputs = 15 registers, 12 loads per 18 multiply-adds
//   instead of 18) measured no faster at stride 1, so the one-pixel loop stays.
// - k = 5 with its 25 weights cannot keep a block's window in registers; the row-by-row pair is
//   the widest tile that fits (5 weights + 2 sums + 6 inputs = 13). It replaced the one-pixel
//   path, which reads 25 weights and 25 inputs per pixel from L1, on every span of 2 or more
//   pixels at both strides: stride 2 on B0's 56x56 map went from 55% to 66% of the ceiling,
//   its 14x14 map from 56% to 61%, and stride 1 on the 3-pixel spans of the 7x7 maps 5% faster.
//   Four pixels per trip would need 8 inputs + 4 sums + 5 weights = 17 registers.
// - Swish fused into the last store of each pixel (saving the row pass's load and store) was 20%
//   slower on a 3x3 layer: its constants and temporaries push the nine weights out of registers.
// - A row-by-row pass over the whole output row, edge pixels included (their taps from the
//   row's weights in registers), was 3% slower on the 7x7 maps and 4% faster on the 14x14 ones:
//   no clear gain, so the separate clipped path stays.
// - Adding each value to the SE sums inside the swish pass, instead of a second pass over the
//   row, was within 2% either way.
// What is left: on B0's 56x56 and 112x112 maps the convolution waits on memory (their inputs and
// outputs pass L2), and swish, whose 25 operations and one division per vector cost about as
// much as nine multiply-adds, bounds the whole kernel; the README has the figures.
//
// Determinism: every output element is bias + row(0) + row(1) + ... in ky order, where row(ky) is
// the sum of that row's in-image products in kx order, on every path; its bits depend only on its
// position. The optional per-channel sums (for squeeze-excite) add each image's activated outputs
// in raster order, so they depend only on the image.
import { activate_in_place } from './math';

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

// What the routines share about the current call, set once by depthwise_conv. Module globals
// rather than an object because the core never allocates.
let channelCount: i32 = 0;
let kernelSize: i32 = 0;
let vectorBlocks: i32 = 0; // full channel blocks: channels / 4
let pixelBytes: usize = 0; // one input (and output) pixel: channels * 4
let rowBytes: usize = 0; // one input row: width * channels * 4
let strideBytes: usize = 0; // input distance between horizontally adjacent windows
let packedBase: usize = 0; // [ceil(c/4), k*k, 4]
let biasBase: usize = 0; // [c]

// @ts-ignore: decorator
@inline function product(x: usize, weight: v128): v128 {
  return f32x4.mul(v128.load(x), weight);
}

/** Sum of one 3-wide window row for one channel block, weights given. */
// @ts-ignore: decorator
@inline function row3(x: usize, step: usize, w0: v128, w1: v128, w2: v128): v128 {
  return f32x4.add(f32x4.add(product(x, w0), product(x + step, w1)), product(x + step + step, w2));
}

/** Sum of one 5-wide window row for one channel block; `weights` points at the row's first tap. */
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

// The span routines store each window row's partial sum as soon as it is made (only the last
// store of a pixel matters). A store is where V8 must finish the arithmetic feeding it; without
// one it schedules every load of a pixel first and the arithmetic after, and the 25 products of
// a 5x5 window no longer fit in registers (measured: spills, 30% slower).

/**
 * `pixels` horizontally adjacent output pixels whose windows cover all k columns and all k rows,
 * k = 3, vector blocks only. `window` is the input address of the first pixel's tap (0, 0). The
 * block's nine weight vectors and its bias stay in registers for the whole row.
 */
function span3(window: usize, pixels: i32, out: usize): void {
  const step = pixelBytes;
  const row = rowBytes;
  const advance = strideBytes;
  const outAdvance = pixelBytes;
  const blocks = vectorBlocks;
  let weights = packedBase;
  let bias = biasBase;
  for (let block = 0; block < blocks; block++) {
    const w0 = v128.load(weights), w1 = v128.load(weights, 16), w2 = v128.load(weights, 32);
    const w3 = v128.load(weights, 48), w4 = v128.load(weights, 64), w5 = v128.load(weights, 80);
    const w6 = v128.load(weights, 96), w7 = v128.load(weights, 112), w8 = v128.load(weights, 128);
    const b = v128.load(bias);
    let x = window + (<usize>block << 4);
    let o = out + (<usize>block << 4);
    for (let p = 0; p < pixels; p++) {
      let acc = f32x4.add(b, row3(x, step, w0, w1, w2));
      v128.store(o, acc);
      acc = f32x4.add(acc, row3(x + row, step, w3, w4, w5));
      v128.store(o, acc);
      acc = f32x4.add(acc, row3(x + row + row, step, w6, w7, w8));
      v128.store(o, acc);
      x += advance;
      o += outAdvance;
    }
    weights += 9 * TAP_BYTES;
    bias += 16;
  }
}

/** As span3, k = 5, for spans of one pixel: the block's 25 weight vectors are read from L1. */
function span5(window: usize, pixels: i32, out: usize): void {
  const step = pixelBytes;
  const row = rowBytes;
  const advance = strideBytes;
  const outAdvance = pixelBytes;
  const blocks = vectorBlocks;
  let weights = packedBase;
  let bias = biasBase;
  for (let block = 0; block < blocks; block++) {
    const b = v128.load(bias);
    let x = window + (<usize>block << 4);
    let o = out + (<usize>block << 4);
    for (let p = 0; p < pixels; p++) {
      const x2 = x + row + row;
      const x4 = x2 + row + row;
      let acc = f32x4.add(b, row5(x, step, weights));
      v128.store(o, acc);
      acc = f32x4.add(acc, row5(x + row, step, weights + 5 * TAP_BYTES));
      v128.store(o, acc);
      acc = f32x4.add(acc, row5(x2, step, weights + 10 * TAP_BYTES));
      v128.store(o, acc);
      acc = f32x4.add(acc, row5(x2 + row, step, weights + 15 * TAP_BYTES));
      v128.store(o, acc);
      acc = f32x4.add(acc, row5(x4, step, weights + 20 * TAP_BYTES));
      v128.store(o, acc);
      x += advance;
      o += outAdvance;
    }
    weights += 25 * TAP_BYTES;
    bias += 16;
  }
}

/**
 * As span5, for spans of 2 pixels or more: window row by window row, with the row's five weight
 * vectors in registers, pixels in pairs, and each pixel's running sum kept in the output
 * between rows (in L1). Each pixel still gets bias + row(0) + ... + row(4), rows summed in kx
 * order. Stride 1 and 2 have their own loops because the pair's shared inputs differ.
 */
function span5Pairs(window: usize, pixels: i32, out: usize): void {
  if (strideBytes == pixelBytes) span5PairsStride1(window, pixels, out);
  else span5PairsStride2(window, pixels, out);
}

/** Stride 1: a pair's windows share four of their six input vectors, so a pair reads 6 per window row. */
function span5PairsStride1(window: usize, pixels: i32, out: usize): void {
  const step = pixelBytes;
  const row = rowBytes;
  const blocks = vectorBlocks;
  let weights = packedBase;
  let bias = biasBase;
  for (let block = 0; block < blocks; block++) {
    const b = v128.load(bias);
    for (let ky = 0; ky < 5; ky++) {
      const w0 = v128.load(weights), w1 = v128.load(weights, 16), w2 = v128.load(weights, 32);
      const w3 = v128.load(weights, 48), w4 = v128.load(weights, 64);
      let x = window + (<usize>block << 4) + <usize>ky * row;
      let o = out + (<usize>block << 4);
      let p = 0;
      for (; p + 2 <= pixels; p += 2) {
        const x2 = x + step + step;
        const x4 = x2 + step + step;
        const i0 = v128.load(x), i1 = v128.load(x + step), i2 = v128.load(x2);
        const i3 = v128.load(x2 + step), i4 = v128.load(x4), i5 = v128.load(x4 + step);
        let first = f32x4.add(f32x4.mul(i0, w0), f32x4.mul(i1, w1));
        let second = f32x4.add(f32x4.mul(i1, w0), f32x4.mul(i2, w1));
        first = f32x4.add(first, f32x4.mul(i2, w2));
        second = f32x4.add(second, f32x4.mul(i3, w2));
        first = f32x4.add(first, f32x4.mul(i3, w3));
        second = f32x4.add(second, f32x4.mul(i4, w3));
        first = f32x4.add(first, f32x4.mul(i4, w4));
        second = f32x4.add(second, f32x4.mul(i5, w4));
        v128.store(o, f32x4.add(ky == 0 ? b : v128.load(o), first));
        v128.store(o + step, f32x4.add(ky == 0 ? b : v128.load(o + step), second));
        x += step + step;
        o += step + step;
      }
      if (p < pixels) {
        const x2 = x + step + step;
        let sum = f32x4.add(f32x4.mul(v128.load(x), w0), f32x4.mul(v128.load(x + step), w1));
        sum = f32x4.add(sum, f32x4.mul(v128.load(x2), w2));
        sum = f32x4.add(sum, f32x4.mul(v128.load(x2 + step), w3));
        sum = f32x4.add(sum, f32x4.mul(v128.load(x2 + step + step), w4));
        v128.store(o, f32x4.add(ky == 0 ? b : v128.load(o), sum));
      }
      weights += 5 * TAP_BYTES;
    }
    bias += 16;
  }
}

/**
 * Stride 2: the two windows of a pair share three input columns, so a pair reads 7 input vectors
 * per window row for its 10 multiply-adds (span5 reads 10 inputs and 10 weights). The first
 * pixel's sum is stored before the second's inputs are loaded, which keeps V8 from loading all
 * seven first (see the note above span3 on stores).
 */
function span5PairsStride2(window: usize, pixels: i32, out: usize): void {
  const step = pixelBytes;
  const row = rowBytes;
  const blocks = vectorBlocks;
  let weights = packedBase;
  let bias = biasBase;
  for (let block = 0; block < blocks; block++) {
    const b = v128.load(bias);
    for (let ky = 0; ky < 5; ky++) {
      const w0 = v128.load(weights), w1 = v128.load(weights, 16), w2 = v128.load(weights, 32);
      const w3 = v128.load(weights, 48), w4 = v128.load(weights, 64);
      let x = window + (<usize>block << 4) + <usize>ky * row;
      let o = out + (<usize>block << 4);
      let p = 0;
      for (; p + 2 <= pixels; p += 2) {
        const x2 = x + step + step;
        const x4 = x2 + step + step;
        const x6 = x4 + step + step;
        const i0 = v128.load(x), i1 = v128.load(x + step), i2 = v128.load(x2);
        const i3 = v128.load(x2 + step), i4 = v128.load(x4);
        let first = f32x4.add(f32x4.mul(i0, w0), f32x4.mul(i1, w1));
        first = f32x4.add(first, f32x4.mul(i2, w2));
        first = f32x4.add(first, f32x4.mul(i3, w3));
        first = f32x4.add(first, f32x4.mul(i4, w4));
        v128.store(o, f32x4.add(ky == 0 ? b : v128.load(o), first));
        const i5 = v128.load(x4 + step), i6 = v128.load(x6);
        let second = f32x4.add(f32x4.mul(i2, w0), f32x4.mul(i3, w1));
        second = f32x4.add(second, f32x4.mul(i4, w2));
        second = f32x4.add(second, f32x4.mul(i5, w3));
        second = f32x4.add(second, f32x4.mul(i6, w4));
        v128.store(o + step, f32x4.add(ky == 0 ? b : v128.load(o + step), second));
        x += 4 * step;
        o += step + step;
      }
      if (p < pixels) {
        const x2 = x + step + step;
        let sum = f32x4.add(f32x4.mul(v128.load(x), w0), f32x4.mul(v128.load(x + step), w1));
        sum = f32x4.add(sum, f32x4.mul(v128.load(x2), w2));
        sum = f32x4.add(sum, f32x4.mul(v128.load(x2 + step), w3));
        sum = f32x4.add(sum, f32x4.mul(v128.load(x2 + step + step), w4));
        v128.store(o, f32x4.add(ky == 0 ? b : v128.load(o), sum));
      }
      weights += 5 * TAP_BYTES;
    }
    bias += 16;
  }
}

/**
 * As span3/span5 for any k and any window rows [kyBegin, kyEnd) (all k columns), vector blocks
 * only: the rows cut by the top or bottom edge, and kernels without an unrolled path.
 */
function spanRows(window: usize, kyBegin: i32, kyEnd: i32, pixels: i32, out: usize): void {
  const kernel = kernelSize;
  const step = pixelBytes;
  const row = rowBytes;
  const advance = strideBytes;
  const outAdvance = pixelBytes;
  const blocks = vectorBlocks;
  const blockWeightBytes = <usize>(kernel * kernel) * TAP_BYTES;
  let weights = packedBase;
  let bias = biasBase;
  for (let block = 0; block < blocks; block++) {
    const b = v128.load(bias);
    let first = window + (<usize>block << 4);
    let o = out + (<usize>block << 4);
    for (let p = 0; p < pixels; p++) {
      let acc = b;
      for (let ky = kyBegin; ky < kyEnd; ky++) {
        let x = first + <usize>ky * row;
        let weight = weights + <usize>(ky * kernel) * TAP_BYTES;
        let rowSum = product(x, v128.load(weight));
        for (let kx = 1; kx < kernel; kx++) {
          x += step;
          weight += TAP_BYTES;
          rowSum = f32x4.add(rowSum, product(x, v128.load(weight)));
        }
        acc = f32x4.add(acc, rowSum);
      }
      v128.store(o, acc);
      first += advance;
      o += outAdvance;
    }
    weights += blockWeightBytes;
    bias += 16;
  }
}

/**
 * One pixel, any k, vector blocks: only taps with ky in [kyBegin, kyEnd) and kx in
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

/** One pixel, channels from blocks*4 to the end, one at a time: the same operations as a lane. */
function clippedPixelScalar(window: usize, kyBegin: i32, kyEnd: i32, kxBegin: i32, kxEnd: i32, out: usize): void {
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
    store<f32>(out + channelBytes, acc);
  }
}

/** Pre-activation sums for one clipped pixel, every channel. */
function clippedPixel(window: usize, kyBegin: i32, kyEnd: i32, kxBegin: i32, kxEnd: i32, out: usize): void {
  // A window with no column inside the image (only possible when padding >= kernel) reads no
  // rows at all: the clipped paths start each row with its first in-image product.
  const rowsEnd = kxBegin < kxEnd ? kyEnd : kyBegin;
  clippedPixelVector(window, kyBegin, rowsEnd, kxBegin, kxEnd, out);
  if (vectorBlocks * 4 < channelCount) clippedPixelScalar(window, kyBegin, rowsEnd, kxBegin, kxEnd, out);
}

/** sums[ch] += row[p, ch] for p = 0 .. pixels-1 in order; row: [pixels, c], sums: [c]. */
function addRowToSums(row: usize, pixels: i32, sums: usize): void {
  const step = pixelBytes;
  const blocks = vectorBlocks;
  for (let block = 0; block < blocks; block++) {
    const offset = <usize>block << 4;
    let sum = v128.load(sums + offset);
    let x = row + offset;
    for (let p = 0; p < pixels; p++) {
      sum = f32x4.add(sum, v128.load(x));
      x += step;
    }
    v128.store(sums + offset, sum);
  }
  for (let channel = blocks * 4; channel < channelCount; channel++) {
    const offset = <usize>channel << 2;
    let sum = load<f32>(sums + offset);
    let x = row + offset;
    for (let p = 0; p < pixels; p++) {
      sum += load<f32>(x);
      x += step;
    }
    store<f32>(sums + offset, sum);
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
  strideBytes = <usize>stride * pixelBytes;
  packedBase = packedWeights;
  biasBase = bias;
  const hasTail = (c & 3) != 0;
  // Output columns whose window lies inside the image horizontally: ox*stride - padLeft >= 0 and
  // ox*stride - padLeft + kernel <= w.
  const spanBegin = min(outW, (padLeft + stride - 1) / stride);
  const spanEnd = max(spanBegin, min(outW, w - kernel + padLeft >= 0 ? (w - kernel + padLeft) / stride + 1 : 0));
  const spanPixels = spanEnd - spanBegin;
  for (let b = 0; b < n; b++) {
    const image = input + <usize>b * <usize>h * rowBytes; // [h, w, c]
    const sums: usize = channelSums == 0 ? 0 : channelSums + <usize>b * pixelBytes; // [c]
    if (sums != 0) memory.fill(sums, 0, pixelBytes);
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * stride - padTop;
      const kyBegin = max(0, -iy0);
      const kyEnd = max(kyBegin, min(kernel, h - iy0));
      const outRow = output + <usize>((b * outH + oy) * outW) * pixelBytes; // [outW, c]
      // Address of tap (0, 0) for ox = 0; may lie outside the image, see clippedPixelVector.
      const windowRow = image + <usize>iy0 * rowBytes - <usize>padLeft * pixelBytes;
      for (let ox = 0; ox < outW; ox++) {
        if (ox == spanBegin) ox = spanEnd; // the span is done below
        if (ox >= outW) break;
        const ix0 = ox * stride - padLeft;
        clippedPixel(windowRow + <usize>ox * strideBytes, kyBegin, kyEnd, max(0, -ix0), min(kernel, w - ix0), outRow + <usize>ox * pixelBytes);
      }
      if (spanPixels > 0) {
        const window = windowRow + <usize>spanBegin * strideBytes;
        const out = outRow + <usize>spanBegin * pixelBytes;
        if (kyBegin == 0 && kyEnd == kernel && kernel == 3) span3(window, spanPixels, out);
        else if (kyBegin == 0 && kyEnd == kernel && kernel == 5 && stride <= 2 && spanPixels >= 2) span5Pairs(window, spanPixels, out);
        else if (kyBegin == 0 && kyEnd == kernel && kernel == 5) span5(window, spanPixels, out);
        else spanRows(window, kyBegin, kyEnd, spanPixels, out);
        if (hasTail) {
          for (let p = 0; p < spanPixels; p++) {
            clippedPixelScalar(window + <usize>p * strideBytes, kyBegin, kyEnd, 0, kernel, out + <usize>p * pixelBytes);
          }
        }
      }
      activate_in_place(outRow, outW * c, activation);
      if (sums != 0) addRowToSums(outRow, outW, sums);
    }
  }
}
