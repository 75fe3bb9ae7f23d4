/**
 * RGBA pixels lose their alpha a word at a time for whole groups of four pixels and byte by byte
 * for the rest (and for views that do not start on a 4-byte boundary): every path must give the
 * bytes of the plain per-byte definition.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundledCodecs } from '../../src/image/codecs.js';
import { decodeImage } from '../../src/image/decode.js';

/** The definition: R, G and B of each pixel, alpha dropped. */
function dropAlpha(rgba: ArrayLike<number>): Uint8Array {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let p = 0; p < rgba.length / 4; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = rgba[p * 4 + c];
  return rgb;
}

describe('RGBA to RGB', () => {
  it('gives the per-byte bytes for every remainder of four pixels and every alignment of the view', async () => {
    for (const [width, height] of [[1, 1], [2, 1], [3, 1], [4, 1], [5, 3], [7, 9], [16, 16]]) {
      for (const offset of [0, 1, 2, 3, 4]) {
        const backing = new Uint8Array(offset + width * height * 4);
        backing.forEach((_, i) => (backing[i] = (i * 151 + 7) & 255));
        const rgba = backing.subarray(offset); // [height, width, 4] starting at `offset`
        const image = await decodeImage({ data: rgba, width, height });
        expect(image.data).toEqual(dropAlpha(rgba));
        const clamped = await decodeImage({ data: new Uint8ClampedArray(rgba.buffer, offset, rgba.length), width, height });
        expect(clamped.data).toEqual(dropAlpha(rgba));
      }
    }
  });

  it('gives the per-byte bytes for a decoded photo', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('../../data/images/grace_hopper.jpg', import.meta.url)));
    const rgba = await (await bundledCodecs()).decodeJpeg(bytes);
    expect(rgba.data.length).toBe(rgba.width * rgba.height * 4);
    expect((await decodeImage(bytes, { applyOrientation: false })).data).toEqual(dropAlpha(rgba.data));
  });
});
