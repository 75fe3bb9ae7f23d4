/**
 * Dense 2-D convolution, the textbook way: every output is the bias plus the sum over the
 * kernel window and input channels of input * weight, with input positions outside the image
 * reading as zero. NHWC activations, PyTorch `[cout, cin, kh, kw]` weights, float64 sums.
 */
import type { Activation } from '../../plan/program.js';
import { referenceActivate } from './math.js';

/** Where the window sits: stride, zero padding before the first row/column, and the output size. */
export interface WindowGeometry {
  readonly stride: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly outH: number;
  readonly outW: number;
}

/**
 * input: [n, h, w, cin]; weight: [cout, cin, kh, kw]; bias: [cout]; residual: [n, outH, outW, cout]
 * or null, added after the activation. Returns [n, outH, outW, cout].
 */
export function referenceConv2d(
  input: Float32Array,
  [n, h, w, cin]: readonly [number, number, number, number],
  weight: Float32Array,
  [cout, , kh, kw]: readonly [number, number, number, number],
  bias: Float32Array,
  { stride, padTop, padLeft, outH, outW }: WindowGeometry,
  activation: Activation,
  residual: Float32Array | null = null,
): Float32Array {
  const output = new Float32Array(n * outH * outW * cout); // [n, outH, outW, cout]
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let co = 0; co < cout; co++) {
          let sum = bias[co];
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * stride - padTop + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * stride - padLeft + kx;
              if (ix < 0 || ix >= w) continue;
              for (let ci = 0; ci < cin; ci++) {
                sum += input[((b * h + iy) * w + ix) * cin + ci] * weight[((co * cin + ci) * kh + ky) * kw + kx];
              }
            }
          }
          const at = ((b * outH + oy) * outW + ox) * cout + co;
          output[at] = referenceActivate(sum, activation) + (residual === null ? 0 : residual[at]);
        }
      }
    }
  }
  return output;
}
