/**
 * Turning decoded pixels upright as the JPEG EXIF orientation (1-8) says, as viewers show them.
 */
import type { RgbImage } from './decode.js';

/**
 * Pixels turned upright for an EXIF orientation. For output pixel (x, y) of the upright image,
 * `source` gives the stored pixel it shows; 5-8 swap the axes.
 *   2 mirrored left-right   3 rotated 180   4 mirrored top-bottom
 *   5 transposed            6 stored 90 degrees counter-clockwise (turn it clockwise)
 *   7 transversed           8 stored 90 degrees clockwise (turn it counter-clockwise)
 */
export function orientUpright(image: RgbImage, orientation: number): RgbImage {
  if (orientation === 1) return image;
  const { width: w, height: h, data } = image;
  const swap = orientation >= 5;
  const outWidth = swap ? h : w;
  const outHeight = swap ? w : h;
  const source: (x: number, y: number) => number = {
    2: (x: number, y: number) => y * w + (w - 1 - x),
    3: (x: number, y: number) => (h - 1 - y) * w + (w - 1 - x),
    4: (x: number, y: number) => (h - 1 - y) * w + x,
    5: (x: number, y: number) => x * w + y,
    6: (x: number, y: number) => (h - 1 - x) * w + y,
    7: (x: number, y: number) => (h - 1 - x) * w + (w - 1 - y),
    8: (x: number, y: number) => x * w + (w - 1 - y),
  }[orientation]!;
  const out = new Uint8Array(data.length); // [outHeight, outWidth, 3]
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const from = source(x, y) * 3;
      const to = (y * outWidth + x) * 3;
      out[to] = data[from];
      out[to + 1] = data[from + 1];
      out[to + 2] = data[from + 2];
    }
  }
  return { data: out, width: outWidth, height: outHeight };
}
