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
