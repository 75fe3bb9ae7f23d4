/**
 * Depthwise 2-D convolution: each channel is convolved with its own k x k kernel, channels never
 * mix. NHWC activations, PyTorch `[c, 1, k, k]` weights (groups = c), float64 sums.
 */
import type { Activation } from '../../plan/program.js';
import type { WindowGeometry } from './conv.js';
import { referenceActivate } from './math.js';

/** input: [n, h, w, c]; weight: [c, 1, k, k]; bias: [c]. Returns [n, outH, outW, c]. */
export function referenceDepthwise(
  input: Float32Array,
  [n, h, w, c]: readonly [number, number, number, number],
  weight: Float32Array,
  kernel: number,
  bias: Float32Array,
  { stride, padTop, padLeft, outH, outW }: WindowGeometry,
  activation: Activation,
): Float32Array {
  const output = new Float32Array(n * outH * outW * c); // [n, outH, outW, c]
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let sum = bias[ch];
          for (let ky = 0; ky < kernel; ky++) {
            const iy = oy * stride - padTop + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kernel; kx++) {
              const ix = ox * stride - padLeft + kx;
              if (ix < 0 || ix >= w) continue;
              sum += input[((b * h + iy) * w + ix) * c + ch] * weight[(ch * kernel + ky) * kernel + kx];
            }
          }
          output[((b * outH + oy) * outW + ox) * c + ch] = referenceActivate(sum, activation);
        }
      }
    }
  }
  return output;
}

/**
 * The same convolution before its activation, in float32 and in the order the core adds: each
 * output is bias + row(ky0) + row(ky0 + 1) + ... over the window rows inside the image, where a
 * row is the sum of its in-image products in kx order, and every product and sum is rounded to
 * float32 (Math.fround of a float64 sum or product of two float32 values is the correctly
 * rounded float32 result). A window with no column inside the image keeps just the bias. Not
 * the textbook definition (that is `referenceDepthwise`) but the order the core's kernels
 * promise, so tests can hold every tiling of the core to it bit for bit.
 * input: [n, h, w, c]; weight: [c, 1, k, k]; bias: [c]. Returns [n, outH, outW, c].
 */
export function referenceDepthwiseSumsInCoreOrder(
  input: Float32Array,
  [n, h, w, c]: readonly [number, number, number, number],
  weight: Float32Array,
  kernel: number,
  bias: Float32Array,
  { stride, padTop, padLeft, outH, outW }: WindowGeometry,
): Float32Array {
  const f = Math.fround;
  const output = new Float32Array(n * outH * outW * c); // [n, outH, outW, c]
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * stride - padTop;
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * stride - padLeft;
        const kxBegin = Math.max(0, -ix0);
        const kxEnd = Math.min(kernel, w - ix0);
        for (let ch = 0; ch < c; ch++) {
          let sum = bias[ch];
          for (let ky = Math.max(0, -iy0); ky < Math.min(kernel, h - iy0) && kxBegin < kxEnd; ky++) {
            const at = (kx: number): number => f(input[((b * h + iy0 + ky) * w + ix0 + kx) * c + ch] * weight[(ch * kernel + ky) * kernel + kx]);
            let row = at(kxBegin);
            for (let kx = kxBegin + 1; kx < kxEnd; kx++) row = f(row + at(kx));
            sum = f(sum + row);
          }
          output[((b * outH + oy) * outW + ox) * c + ch] = sum;
        }
      }
    }
  }
  return output;
}
