/**
 * Pillow's antialiased resize of 8-bit RGB images, and torchvision's ToTensor + Normalize, as
 * plain loops: the scalar twin of `assembly/resize.ts` and the oracle its tests compare with.
 *
 * Resizing one axis from `inSize` to `outSize` pixels: output pixel i is centred at
 * (i + 0.5) * inSize / outSize in input coordinates. When shrinking, the filter is stretched by
 * the same ratio so every input pixel contributes (antialiasing). The weights of a window are
 * normalised to sum to 1 and rounded to integers with 22 fraction bits; each pass then sums
 * integer products and rounds the result back to a byte. Horizontal pass first, then vertical.
 */

export type ResampleFilter = 'bilinear' | 'bicubic';

/** Fraction bits of the fixed-point weights (Pillow's PRECISION_BITS). */
export const PRECISION_BITS = 22;

const SUPPORT: Record<ResampleFilter, number> = { bilinear: 1, bicubic: 2 };

/** Keys' cubic convolution kernel with a = -0.5, or the bilinear triangle; `x` in filter units. */
export function filterWeight(filter: ResampleFilter, x: number): number {
  const d = Math.abs(x);
  if (filter === 'bilinear') return d < 1 ? 1 - d : 0;
  const a = -0.5;
  // Operation order as Pillow's, so the float64 values agree to the last bit.
  if (d < 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return (((d - 5) * d + 8) * d - 4) * a;
  return 0;
}

/** One axis of a resize: per output index a window (first tap, tap count) and its integer weights. */
export interface AxisCoefficients {
  /** Row length of `weights`: the most taps any window can have. */
  readonly taps: number;
  /** [count, 2]: first input index and number of taps per output index. */
  readonly bounds: Int32Array;
  /** [count, taps]: weights scaled by 2^22 and rounded; zero past a window's tap count. */
  readonly weights: Int32Array;
}

/** Pillow reads the input length as float32; it only matters above 2^24 pixels. */
const inputSpan = (inSize: number): number => Math.fround(inSize);

/**
 * Coefficients for output indices [first, first + count) of a resize inSize -> outSize
 * (all of them by default).
 */
export function resampleCoefficients(
  inSize: number, outSize: number, filter: ResampleFilter, first = 0, count = outSize,
): AxisCoefficients {
  const scale = inputSpan(inSize) / outSize;
  const stretch = Math.max(1, scale);
  const support = SUPPORT[filter] * stretch;
  const taps = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(count * 2); // [count, 2]
  const weights = new Int32Array(count * taps); // [count, taps]
  for (let i = 0; i < count; i++) {
    const center = (first + i + 0.5) * scale;
    const low = Math.max(0, Math.trunc(center - support + 0.5));
    const high = Math.min(inSize, Math.trunc(center + support + 0.5));
    const raw: number[] = [];
    for (let x = low; x < high; x++) raw.push(filterWeight(filter, (x - center + 0.5) * (1 / stretch)));
    const sum = raw.reduce((a, b) => a + b, 0);
    raw.forEach((w, t) => {
      const scaled = (w / sum) * 2 ** PRECISION_BITS;
      // Round half away from zero.
      weights[i * taps + t] = scaled < 0 ? Math.trunc(scaled - 0.5) : Math.trunc(scaled + 0.5);
    });
    bounds[i * 2] = low;
    bounds[i * 2 + 1] = high - low;
  }
  return { taps, bounds, weights };
}

/** A fixed-point sum back to a byte: floor, then clamp to [0, 255]. */
function toByte(sum: number): number {
  return Math.min(255, Math.max(0, sum >> PRECISION_BITS));
}

const HALF = 1 << (PRECISION_BITS - 1);

/** input: [rows, inWidth, 3] u8 -> [rows, coefficients' count, 3] u8. */
export function resampleHorizontalRgb8(input: Uint8Array, rows: number, inWidth: number, axis: AxisCoefficients): Uint8Array {
  const outWidth = axis.bounds.length / 2;
  const output = new Uint8Array(rows * outWidth * 3); // [rows, outWidth, 3]
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < outWidth; x++) {
      const low = axis.bounds[x * 2];
      const length = axis.bounds[x * 2 + 1];
      for (let c = 0; c < 3; c++) {
        let sum = HALF;
        for (let t = 0; t < length; t++) sum += input[(y * inWidth + low + t) * 3 + c] * axis.weights[x * axis.taps + t];
        output[(y * outWidth + x) * 3 + c] = toByte(sum);
      }
    }
  }
  return output;
}

/** input: [*, width, 3] u8 whose row r is source row firstRow + r -> [coefficients' count, width, 3] u8. */
export function resampleVerticalRgb8(input: Uint8Array, firstRow: number, width: number, axis: AxisCoefficients): Uint8Array {
  const outRows = axis.bounds.length / 2;
  const output = new Uint8Array(outRows * width * 3); // [outRows, width, 3]
  for (let y = 0; y < outRows; y++) {
    const low = axis.bounds[y * 2] - firstRow;
    const length = axis.bounds[y * 2 + 1];
    for (let i = 0; i < width * 3; i++) {
      let sum = HALF;
      for (let t = 0; t < length; t++) sum += input[(low + t) * width * 3 + i] * axis.weights[y * axis.taps + t];
      output[y * width * 3 + i] = toByte(sum);
    }
  }
  return output;
}

/**
 * Pillow's `image.resize((outWidth, outHeight), filter)` on RGB data [height, width, 3]:
 * horizontal pass over every row, then the vertical pass. (Pillow skips a pass whose size does
 * not change; at scale 1 a pass is the identity, so running it gives the same bytes.)
 */
export function resizeRgb8(
  input: Uint8Array, width: number, height: number, outWidth: number, outHeight: number, filter: ResampleFilter,
): Uint8Array {
  const horizontal = resampleHorizontalRgb8(input, height, width, resampleCoefficients(width, outWidth, filter));
  return resampleVerticalRgb8(horizontal, 0, outWidth, resampleCoefficients(height, outHeight, filter));
}

/**
 * input: [height, width, 3] u8 -> [3, height, width] f32: (v / 255 - mean[c]) / std[c], each
 * operation rounded to float32 as torchvision's ToTensor and Normalize do.
 */
export function rgb8NormalizeToNchw(
  input: Uint8Array, height: number, width: number, mean: readonly number[], std: readonly number[],
): Float32Array {
  const spatial = height * width;
  const output = new Float32Array(3 * spatial); // [3, height, width]
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    for (let p = 0; p < spatial; p++) {
      output[c * spatial + p] = Math.fround(Math.fround(Math.fround(input[p * 3 + c] / 255) - m) / s);
    }
  }
  return output;
}
