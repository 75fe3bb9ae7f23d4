// Antialiased resampling of 8-bit RGB images that reproduces Pillow's Image.resize bit for bit,
// and the final scaling to [0, 1] and per-channel normalisation into planar (NCHW) float32.
//
// Pillow's algorithm (libImaging/Resample.c), restated:
// - Separable: a horizontal pass, then a vertical pass over the horizontal result.
// - For each output index, a window of input taps centred on (i + 0.5) * in / out, the filter
//   stretched by max(1, in / out) when shrinking (that stretch is the antialiasing), weights in
//   float64, normalised to sum to 1, then rounded to fixed point with PRECISION_BITS fraction bits.
// - Each pass accumulates integer products in 32 bits starting from one half (for rounding), then
//   shifts right and clamps to [0, 255]: the image is 8-bit again between the passes.
// The weights are integers and every sum fits in an i32, so once they are bit-identical to
// Pillow's, so is every pixel. Weights are computed here in float64 with Pillow's exact sequence
// of operations (WebAssembly float64 arithmetic is IEEE-754 with no fused multiply-add).

/** Filter codes accepted by `resample_taps` and `resample_coefficients`. */
export const RESAMPLE_FILTER_BILINEAR: i32 = 0;
export const RESAMPLE_FILTER_BICUBIC: i32 = 1;
/**
 * Fraction bits of the fixed-point weights: 32 bits less 8 for the pixel value and 2 for the
 * overshoot of filters with negative lobes (bicubic sums can exceed 255 before clamping).
 */
export const RESAMPLE_PRECISION_BITS: i32 = 22;

/** Half-width of the filter at scale 1, in input pixels. */
function filterSupport(filter: i32): f64 {
  return filter == RESAMPLE_FILTER_BICUBIC ? 2.0 : 1.0;
}

/** The filter's weight at distance `x` from the sample centre, in filter units. */
function filterWeight(filter: i32, x: f64): f64 {
  if (x < 0.0) x = -x;
  if (filter == RESAMPLE_FILTER_BICUBIC) {
    // Keys' cubic convolution with a = -0.5; the operation order matches Pillow's so the
    // float64 results, and hence the rounded weights, are identical.
    const a: f64 = -0.5;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
  }
  // Bilinear: the triangle (tent) filter.
  return x < 1.0 ? 1.0 - x : 0.0;
}

/**
 * Pillow converts the box edge to float32 before use, so inputs wider than 2^24 pixels see a
 * rounded length. Matching it costs nothing.
 */
function inputSpan(inSize: i32): f64 {
  return <f64><f32>inSize;
}

/** Widening factor of the filter: the downscale ratio, never below 1 (no widening when enlarging). */
function filterScale(inSize: i32, outSize: i32): f64 {
  const scale = inputSpan(inSize) / <f64>outSize;
  return scale < 1.0 ? 1.0 : scale;
}

/** Taps per output index (the stride of a weight table row) for resampling in_size -> out_size. */
export function resample_taps(in_size: i32, out_size: i32, filter: i32): i32 {
  const support = filterSupport(filter) * filterScale(in_size, out_size);
  return <i32>Math.ceil(support) * 2 + 1;
}

/**
 * Windows and fixed-point weights for output indices [first, first + count) of a resample
 * in_size -> out_size along one axis.
 * bounds: [count, 2] i32, (first input index, number of taps) per output index.
 * weights: [count, taps] i32 with taps = resample_taps(in_size, out_size, filter); entries past
 * a window's tap count are zero.
 */
export function resample_coefficients(
  in_size: i32, out_size: i32, first: i32, count: i32, filter: i32, bounds: usize, weights: usize,
): void {
  const scale = inputSpan(in_size) / <f64>out_size;
  const stretch = filterScale(in_size, out_size);
  const support = filterSupport(filter) * stretch;
  const inverseStretch = 1.0 / stretch;
  const taps = resample_taps(in_size, out_size, filter);
  const one = <f64>(1 << RESAMPLE_PRECISION_BITS);
  for (let i = 0; i < count; i++) {
    const center = (<f64>(first + i) + 0.5) * scale;
    // The window is [center - support, center + support) rounded to whole pixels, clipped to the image.
    let low = <i32>(center - support + 0.5);
    if (low < 0) low = 0;
    let high = <i32>(center + support + 0.5);
    if (high > in_size) high = in_size;
    const length = high - low;
    // Two passes over the same filter values (they are recomputed, bit-identical) avoid a
    // float64 scratch row: the first finds the sum, the second normalises and rounds.
    let sum: f64 = 0.0;
    for (let t = 0; t < length; t++) {
      sum += filterWeight(filter, (<f64>(t + low) - center + 0.5) * inverseStretch);
    }
    const row = weights + (<usize>i * <usize>taps << 2); // [taps]
    for (let t = 0; t < taps; t++) {
      let fixed: i32 = 0;
      if (t < length) {
        const w = filterWeight(filter, (<f64>(t + low) - center + 0.5) * inverseStretch) / sum;
        // Round half away from zero, as a C cast of w * 2^22 -/+ 0.5 does.
        fixed = w < 0.0 ? <i32>(-0.5 + w * one) : <i32>(0.5 + w * one);
      }
      store<i32>(row + (<usize>t << 2), fixed);
    }
    store<i32>(bounds + (<usize>i << 3), low);
    store<i32>(bounds + (<usize>i << 3) + 4, length);
  }
}

/** Fixed-point sum -> 8-bit value: drop the fraction (floor) and clamp to [0, 255]. */
// @ts-ignore: decorator
@inline
function clampToByte(sum: i32): i32 {
  const value = sum >> RESAMPLE_PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/**
 * Four consecutive pixels from `pixel` as RGBx RGBx RGBx RGBx bytes (the 4th byte of each is a
 * don't-care). pixel_bytes is 3 or 4, a constant after inlining, so the shuffle is chosen at
 * compile time. With 3-byte pixels the load reads 4 bytes past the fourth pixel.
 */
// @ts-ignore: decorator
@inline
function fourPixels(pixel: usize, pixel_bytes: i32): v128 {
  const bytes = v128.load(pixel);
  return pixel_bytes == 3 ? i8x16.shuffle(bytes, bytes, 0, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11) : bytes;
}

/** sum + each of four pixels' bytes (from fourPixels) times its weight: w0..w3 splatted weights. */
// @ts-ignore: decorator
@inline
function addFourTaps(sum: v128, bytes: v128, w0: v128, w1: v128, w2: v128, w3: v128): v128 {
  const low16 = i16x8.extend_low_i8x16_u(bytes); // pixels 0, 1
  const high16 = i16x8.extend_high_i8x16_u(bytes); // pixels 2, 3
  sum = i32x4.add(sum, i32x4.mul(i32x4.extend_low_i16x8_u(low16), w0));
  sum = i32x4.add(sum, i32x4.mul(i32x4.extend_high_i16x8_u(low16), w1));
  sum = i32x4.add(sum, i32x4.mul(i32x4.extend_low_i16x8_u(high16), w2));
  return i32x4.add(sum, i32x4.mul(i32x4.extend_high_i16x8_u(high16), w3));
}

/** One pixel's bytes widened to the four i32 lanes; reads 4 bytes, one past B for 3-byte pixels. */
// @ts-ignore: decorator
@inline
function onePixel(pixel: usize): v128 {
  return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(pixel)));
}

/**
 * Stores lanes 0-2 of a sum as 3 bytes, floored and clamped as clampToByte: a shifted i32 lies
 * in [-512, 511], so the two saturating narrows clamp it to [0, 255] exactly.
 */
// @ts-ignore: decorator
@inline
function storeRgb(destination: usize, sum: v128): void {
  const shifted = i32x4.shr_s(sum, RESAMPLE_PRECISION_BITS);
  const halves = i16x8.narrow_i32x4_u(shifted, shifted);
  const packed = i32x4.extract_lane(i8x16.narrow_i16x8_u(halves, halves), 0); // R | G << 8 | B << 16
  store<u16>(destination, <u16>packed);
  store<u8>(destination, <u8>(packed >>> 16), 2);
}

/**
 * Horizontal pass. input: [rows, in_width, pixel_bytes] u8, pixel_bytes 3 (RGB) or 4 (RGBA, the
 * 4th byte ignored, so a decoder's RGBA needs no conversion first); output: [rows, out_width, 3] u8,
 * where output column j uses window j of `bounds` ([out_width, 2]) and row j of `weights`
 * ([out_width, taps]). Passing tables that start at a later output index computes a column slice
 * of a wider resize.
 * With pixel_bytes 3 the loads read up to 4 bytes past the input's last pixel (their values are
 * never used): the input must not end within 4 bytes of the end of memory.
 */
export function resample_horizontal_rgb8(
  input: usize, pixel_bytes: i32, rows: i32, in_width: i32, out_width: i32, taps: i32, bounds: usize, weights: usize, output: usize,
): void {
  // Two copies of the loop, each with its pixel size a constant.
  if (pixel_bytes == 4) horizontalRows(input, 4, rows, in_width, out_width, taps, bounds, weights, output);
  else horizontalRows(input, 3, rows, in_width, out_width, taps, bounds, weights, output);
}

// Each output pixel is the rounding half plus the sum over its window of each input pixel's bytes
// times the tap's weight, R, G and B in lanes 0-2 of one i32x4 (lane 3, from the byte after B,
// is never stored): the same integer products and sums as Pillow's loop, so the same bits. Four
// taps go to a 16-byte load, the rest one at a time. Rows go in pairs, which share the window's
// bounds and splatted weights.
// @ts-ignore: decorator
@inline
function horizontalRows(
  input: usize, pixel_bytes: i32, rows: i32, in_width: i32, out_width: i32, taps: i32, bounds: usize, weights: usize, output: usize,
): void {
  const rounding = i32x4.splat(1 << (RESAMPLE_PRECISION_BITS - 1));
  const inRowBytes = <usize>in_width * <usize>pixel_bytes;
  const outRowBytes = <usize>out_width * 3;
  for (let y = 0; y < rows; y += 2) {
    // A last odd row is computed twice over (the second copy discarded) rather than in a loop of its own.
    const second: usize = y + 1 < rows ? inRowBytes : 0;
    const source = input + <usize>y * inRowBytes; // [in_width, pixel_bytes], then row y + 1 at source + second
    let destination = output + <usize>y * outRowBytes; // [out_width, 3]
    for (let x = 0; x < out_width; x++) {
      const low = load<i32>(bounds + (<usize>x << 3));
      const length = load<i32>(bounds + (<usize>x << 3) + 4);
      const row = weights + (<usize>x * <usize>taps << 2); // [taps]
      let pixel = source + <usize>low * <usize>pixel_bytes;
      let sum0 = rounding, sum1 = rounding;
      let t = 0;
      for (; t + 4 <= length; t += 4) {
        const w = v128.load(row + (<usize>t << 2)); // [4] i32
        const w0 = i32x4.shuffle(w, w, 0, 0, 0, 0), w1 = i32x4.shuffle(w, w, 1, 1, 1, 1);
        const w2 = i32x4.shuffle(w, w, 2, 2, 2, 2), w3 = i32x4.shuffle(w, w, 3, 3, 3, 3);
        sum0 = addFourTaps(sum0, fourPixels(pixel, pixel_bytes), w0, w1, w2, w3);
        sum1 = addFourTaps(sum1, fourPixels(pixel + second, pixel_bytes), w0, w1, w2, w3);
        pixel += <usize>(pixel_bytes << 2);
      }
      for (; t < length; t++) {
        const w = v128.load32_splat(row + (<usize>t << 2));
        sum0 = i32x4.add(sum0, i32x4.mul(onePixel(pixel), w));
        sum1 = i32x4.add(sum1, i32x4.mul(onePixel(pixel + second), w));
        pixel += <usize>pixel_bytes;
      }
      storeRgb(destination, sum0);
      if (second != 0) storeRgb(destination + outRowBytes, sum1);
      destination += 3;
    }
  }
}

/**
 * Vertical pass. input: [input_rows, width, 3] u8 whose row r is source row first_row + r;
 * output: [out_rows, width, 3] u8, row i from window i of `bounds` ([out_rows, 2], in source rows)
 * and row i of `weights` ([out_rows, taps]). Each output row is a weighted sum of whole input
 * rows, so the loop runs along the row's bytes, 16 at a time in four i32x4 accumulators.
 */
export function resample_vertical_rgb8(
  input: usize, first_row: i32, width: i32, out_rows: i32, taps: i32, bounds: usize, weights: usize, output: usize,
): void {
  const rowBytes = <usize>width * 3;
  const vectorBytes = rowBytes & ~(<usize>15);
  const rounding: i32 = 1 << (RESAMPLE_PRECISION_BITS - 1);
  const roundingVector = i32x4.splat(rounding);
  const zero = i32x4.splat(0);
  const top = i32x4.splat(255);
  for (let y = 0; y < out_rows; y++) {
    const low = load<i32>(bounds + (<usize>y << 3)) - first_row;
    const length = load<i32>(bounds + (<usize>y << 3) + 4);
    const row = weights + (<usize>y * <usize>taps << 2); // [taps]
    const window = input + <usize>low * rowBytes; // [length, width, 3]
    const destination = output + <usize>y * rowBytes; // [width, 3]
    let offset: usize = 0;
    for (; offset < vectorBytes; offset += 16) {
      let sum0 = roundingVector, sum1 = roundingVector, sum2 = roundingVector, sum3 = roundingVector;
      let source = window + offset;
      for (let t = 0; t < length; t++) {
        const w = i32x4.splat(load<i32>(row + (<usize>t << 2)));
        const bytes = v128.load(source);
        const low16 = i16x8.extend_low_i8x16_u(bytes);
        const high16 = i16x8.extend_high_i8x16_u(bytes);
        sum0 = i32x4.add(sum0, i32x4.mul(i32x4.extend_low_i16x8_u(low16), w));
        sum1 = i32x4.add(sum1, i32x4.mul(i32x4.extend_high_i16x8_u(low16), w));
        sum2 = i32x4.add(sum2, i32x4.mul(i32x4.extend_low_i16x8_u(high16), w));
        sum3 = i32x4.add(sum3, i32x4.mul(i32x4.extend_high_i16x8_u(high16), w));
        source += rowBytes;
      }
      // Same floor-and-clamp as clampToByte, lane-wise; the clamped values fit the unsigned narrows.
      sum0 = i32x4.min_s(i32x4.max_s(i32x4.shr_s(sum0, RESAMPLE_PRECISION_BITS), zero), top);
      sum1 = i32x4.min_s(i32x4.max_s(i32x4.shr_s(sum1, RESAMPLE_PRECISION_BITS), zero), top);
      sum2 = i32x4.min_s(i32x4.max_s(i32x4.shr_s(sum2, RESAMPLE_PRECISION_BITS), zero), top);
      sum3 = i32x4.min_s(i32x4.max_s(i32x4.shr_s(sum3, RESAMPLE_PRECISION_BITS), zero), top);
      const bytes = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(sum0, sum1), i16x8.narrow_i32x4_u(sum2, sum3));
      v128.store(destination + offset, bytes);
    }
    for (; offset < rowBytes; offset++) {
      let sum = rounding;
      let source = window + offset;
      for (let t = 0; t < length; t++) {
        sum += <i32>load<u8>(source) * load<i32>(row + (<usize>t << 2));
        source += rowBytes;
      }
      store<u8>(destination + offset, <u8>clampToByte(sum));
    }
  }
}

/**
 * input: [height, width, 3] u8 -> output: [3, height, width] f32, each value (v / 255 - mean[c]) / std[c]
 * in float32, the same three roundings as torchvision's ToTensor (a division by 255) and Normalize.
 * mean, std: [3] f32.
 */
export function rgb8_normalize_to_nchw(input: usize, height: i32, width: i32, mean: usize, std: usize, output: usize): void {
  const spatial = <usize>height * <usize>width;
  // One plane per channel; each shuffle's byte offsets must be constants, hence three calls.
  normalizePlane(input, spatial, 0, load<f32>(mean), load<f32>(std), output);
  normalizePlane(input, spatial, 1, load<f32>(mean, 4), load<f32>(std, 4), output + (spatial << 2));
  normalizePlane(input, spatial, 2, load<f32>(mean, 8), load<f32>(std, 8), output + (spatial << 3));
}

/**
 * Channel `c` of input [spatial, 3] u8 -> output [spatial] f32, four pixels per step: the lanes
 * take the same float32 division, subtraction and division as the scalar tail, so the same bits.
 */
// @ts-ignore: decorator
@inline
function normalizePlane(input: usize, spatial: usize, c: i32, m: f32, s: f32, output: usize): void {
  const scale = f32x4.splat(<f32>255);
  const means = f32x4.splat(m);
  const stds = f32x4.splat(s);
  let p: usize = 0;
  // A 16-byte load at pixel p reaches pixel p + 5's first byte: stop where that stays in the input.
  for (; p + 6 <= spatial; p += 4) {
    const bytes = v128.load(input + p * 3);
    let picked: v128;
    // Channel c's byte of pixels p..p+3 into the low four bytes (the rest are never used).
    if (c == 0) picked = i8x16.shuffle(bytes, bytes, 0, 3, 6, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    else if (c == 1) picked = i8x16.shuffle(bytes, bytes, 1, 4, 7, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    else picked = i8x16.shuffle(bytes, bytes, 2, 5, 8, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    // Values 0-255 convert exactly, so the signed conversion (one instruction on x64) is the unsigned one.
    const values = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(picked)));
    v128.store(output + (p << 2), f32x4.div(f32x4.sub(f32x4.div(values, scale), means), stds));
  }
  for (; p < spatial; p++) {
    store<f32>(output + (p << 2), (<f32>load<u8>(input + p * 3 + <usize>c) / <f32>255 - m) / s);
  }
}
