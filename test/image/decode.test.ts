import { beforeAll, describe, expect, it } from 'vitest';
import { ImageDecodeError, InputShapeError, ResourceLimitError } from '../../src/errors.js';
import { decodeImage, decodePixels, type ImageCodecs, type RgbImage } from '../../src/image/decode.js';
import { encodeJpeg, expectSameBytes, goldenCases, readRepoFile, withApp1, withExifOrientation } from './support.js';
import { sha256 } from '../support/hash.js';

describe('decoding the example photos', () => {
  // Pillow decodes JPEG with libjpeg-turbo, we with mozjpeg (a libjpeg-turbo fork built to wasm);
  // the generator stored a hash of Pillow's pixels, so this proves the decodes identical.
  const photos = [...new Map(goldenCases().map((c) => [c.image, c])).values()];
  for (const c of photos) {
    it(`${c.image}: the same ${c.source.width}x${c.source.height} RGB bytes as Pillow`, async () => {
      const image = await decodeImage(readRepoFile(c.image));
      expect([image.width, image.height]).toEqual([c.source.width, c.source.height]);
      expect(sha256(image.data)).toBe(c.decodedSha256);
    });
  }

  it('accepts an ArrayBuffer, and a Node Buffer lying inside a larger pool, as well as a Uint8Array', async () => {
    for (const file of ['data/images/panda.jpg', 'data/images/chelsea.png']) {
      const bytes = readRepoFile(file);
      const fromView = await decodeImage(bytes);
      expectSameBytes((await decodeImage(bytes.slice().buffer)).data, fromView.data, `${file} from an ArrayBuffer`);
      const pool = Buffer.alloc(bytes.length + 100, 0x2f);
      pool.set(bytes, 50);
      expectSameBytes((await decodeImage(pool.subarray(50, 50 + bytes.length))).data, fromView.data, `${file} from a Buffer view`);
    }
  });
});

describe('already-decoded pixels', () => {
  it('drops the alpha of RGBA (as PIL convert("RGB")) and passes RGB through', async () => {
    const rgba = new Uint8ClampedArray([1, 2, 3, 4, 5, 6, 7, 8]); // [1, 2, 4]
    const fromRgba = await decodeImage({ data: rgba, width: 2, height: 1 });
    expect(Array.from(fromRgba.data)).toEqual([1, 2, 3, 5, 6, 7]);
    const fromRgb = await decodeImage({ data: new Uint8Array([9, 8, 7]), width: 1, height: 1 });
    expect(Array.from(fromRgb.data)).toEqual([9, 8, 7]);
  });

  it('refuses inconsistent sizes with InputShapeError', async () => {
    await expect(decodeImage({ data: new Uint8Array(10), width: 2, height: 2 })).rejects.toThrow(InputShapeError);
    await expect(decodeImage({ data: new Uint8Array(0), width: 0, height: 1 })).rejects.toThrow(InputShapeError);
    await expect(decodeImage({ data: new Float32Array(12) as unknown as Uint8Array, width: 2, height: 2 })).rejects.toThrow(InputShapeError);
  });
});

/** Upright-image transforms built from three primitives, independently of decode.ts's index maps. */
const mirror = ({ data, width, height }: RgbImage): RgbImage => {
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3), (y * width + width - 1 - x) * 3);
  return { data: out, width, height };
};
const flip = ({ data, width, height }: RgbImage): RgbImage => {
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) out.set(data.subarray(y * width * 3, (y + 1) * width * 3), (height - 1 - y) * width * 3);
  return { data: out, width, height };
};
/** A quarter turn clockwise: the stored top-left corner ends top-right. */
const turn = ({ data, width, height }: RgbImage): RgbImage => {
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3), (x * height + (height - 1 - y)) * 3);
  return { data: out, width: height, height: width };
};
/** What a viewer shows for each EXIF orientation, as the EXIF 2.3 specification describes it. */
const UPRIGHT: Record<number, (image: RgbImage) => RgbImage> = {
  1: (i) => i,
  2: mirror,
  3: (i) => flip(mirror(i)),
  4: flip,
  5: (i) => mirror(turn(i)),
  6: turn,
  7: (i) => flip(turn(i)),
  8: (i) => turn(turn(turn(i))),
};

describe('decodePixels', () => {
  it('gives the decoder\'s RGBA for the example photos, whose RGB is decodeImage\'s', async () => {
    for (const name of ['grace_hopper.jpg', 'panda.jpg', 'chelsea.png']) {
      const bytes = readRepoFile(`data/images/${name}`);
      const pixels = await decodePixels(bytes);
      expect(pixels.data.length, name).toBe(pixels.width * pixels.height * 4);
      expectSameBytes((await decodeImage(pixels)).data, (await decodeImage(bytes)).data, name);
    }
  });

  it('checks pixels passed in as decodeImage does', async () => {
    await expect(decodePixels({ data: new Uint8Array(11), width: 2, height: 2 })).rejects.toThrow(InputShapeError);
    const rgb = { data: new Uint8Array(12), width: 2, height: 2 };
    expect(await decodePixels(rgb)).toBe(rgb);
  });
});

describe('EXIF orientation', () => {
  let jpeg: Uint8Array;
  let stored: RgbImage;
  beforeAll(async () => {
    // 12x7, four distinct quadrant colours: no orientation maps it onto itself.
    const data = new Uint8Array(12 * 7 * 3);
    for (let y = 0; y < 7; y++) for (let x = 0; x < 12; x++) data.set([x < 6 ? 250 : 10, y < 4 ? 240 : 20, (x * 20) % 256], (y * 12 + x) * 3);
    jpeg = await encodeJpeg({ data, width: 12, height: 7 });
    stored = await decodeImage(jpeg);
  });

  for (let orientation = 1; orientation <= 8; orientation++) {
    it(`orientation ${orientation}: the decoded pixels are turned upright`, async () => {
      const expected = UPRIGHT[orientation](stored);
      const upright = await decodeImage(withExifOrientation(jpeg, orientation));
      expect([upright.width, upright.height]).toEqual([expected.width, expected.height]);
      expectSameBytes(upright.data, expected.data, `orientation ${orientation}`);
      // decodePixels keeps the decoder's RGBA only where nothing is turned; either way, the same RGB.
      const pixels = await decodePixels(withExifOrientation(jpeg, orientation));
      expect(pixels.data.length).toBe(12 * 7 * (orientation === 1 ? 4 : 3));
      expectSameBytes((await decodeImage(pixels)).data, expected.data, `decodePixels, orientation ${orientation}`);
    });
  }

  it('reads little-endian ("II") EXIF too', async () => {
    expectSameBytes((await decodeImage(withExifOrientation(jpeg, 6, true))).data, UPRIGHT[6](stored).data, 'II');
  });

  it('keeps the stored pixels when applyOrientation is false', async () => {
    const asStored = await decodeImage(withExifOrientation(jpeg, 6), { applyOrientation: false });
    expect([asStored.width, asStored.height]).toEqual([12, 7]);
    expectSameBytes(asStored.data, stored.data, 'not rotated');
  });

  it('treats broken or out-of-range EXIF as upright instead of failing', async () => {
    const exif = withExifOrientation(jpeg, 6).subarray(6, 6 + 32); // the APP1 payload: "Exif\0\0" + TIFF
    const broken = [
      exif.subarray(0, 20), // IFD0 cut short
      new Uint8Array([...exif.subarray(0, 6), 0x58, 0x58, ...exif.subarray(8)]), // unknown byte order
      new Uint8Array([...exif.subarray(0, 6 + 4), 0xff, 0xff, 0xff, 0xff, ...exif.subarray(14)]), // IFD0 offset past the end
    ];
    for (const payload of broken) expectSameBytes((await decodeImage(withApp1(jpeg, payload))).data, stored.data, 'broken EXIF');
    expectSameBytes((await decodeImage(withExifOrientation(jpeg, 9))).data, stored.data, 'orientation 9');
  });
});

/** A PNG made of a bare IHDR declaring `width` x `height`, and IEND (no pixel data, CRCs zero). */
function pngHeaderOnly(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(8 + 25 + 12);
  const view = new DataView(bytes.buffer);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  view.setUint32(8, 13);
  bytes.set([0x49, 0x48, 0x44, 0x52], 12); // IHDR
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 2, 0, 0, 0], 24); // 8-bit RGB
  bytes.set([0x49, 0x45, 0x4e, 0x44], 8 + 25 + 4); // IEND, length 0
  return bytes;
}

/** Index (at its FF byte) of the first header segment whose marker passes `test`. */
function findSegment(jpeg: Uint8Array, test: (marker: number) => boolean): number {
  for (let at = 2; at + 4 <= jpeg.length; at += 2 + ((jpeg[at + 2] << 8) | jpeg[at + 3])) {
    if (test(jpeg[at + 1])) return at;
  }
  throw new Error('no such segment');
}
/** SOF0..SOF15 but DHT, JPG and DAC: mozjpeg's encoder writes SOF2, progressive, by default. */
const isFrameHeader = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** `jpeg` without its header segments carrying `marker` (those before the first scan). */
function withoutSegments(jpeg: Uint8Array, marker: number): Uint8Array {
  const kept: number[] = [0xff, 0xd8];
  let at = 2;
  while (jpeg[at + 1] !== 0xda) {
    const end = at + 2 + ((jpeg[at + 2] << 8) | jpeg[at + 3]);
    if (jpeg[at + 1] !== marker) kept.push(...jpeg.subarray(at, end));
    at = end;
  }
  return new Uint8Array([...kept, ...jpeg.subarray(at)]);
}

describe('refusals', () => {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  let jpeg: Uint8Array;
  beforeAll(async () => {
    const data = new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) % 256);
    jpeg = await encodeJpeg({ data, width: 16, height: 16 });
  });

  it('empty bytes', async () => {
    await expect(decodeImage(new Uint8Array(0))).rejects.toThrow(new ImageDecodeError('image is empty (0 bytes)'));
  });

  it('data that is no image, naming its first bytes', async () => {
    await expect(decodeImage(text('hello, world'))).rejects.toThrow(/not a JPEG or PNG image \(the first bytes are 68 65 6c/);
  });

  it('recognised but unsupported formats, by name', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [text('GIF89a\0\0\0\0'), /^GIF images are not supported/],
      [text('RIFF\0\0\0\0WEBPVP8 '), /^WebP images are not supported/],
      [text('BM\0\0\0\0\0\0'), /^BMP images are not supported/],
      [new Uint8Array([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]), /^TIFF images are not supported/],
    ];
    for (const [bytes, message] of cases) await expect(decodeImage(bytes)).rejects.toThrow(message);
    for (const [bytes] of cases) await expect(decodeImage(bytes)).rejects.toBeInstanceOf(ImageDecodeError);
  });

  it('truncated JPEG and PNG files, cut in the data or in the header', async () => {
    const photo = readRepoFile('data/images/grace_hopper.jpg');
    const png = readRepoFile('data/images/chelsea.png');
    for (const cut of [photo.subarray(0, 20_000), photo.subarray(0, photo.length - 2), photo.subarray(0, 10), png.subarray(0, 20_000), png.subarray(0, 20)]) {
      await expect(decodeImage(cut)).rejects.toThrow(/truncated/);
      await expect(decodeImage(cut)).rejects.toBeInstanceOf(ImageDecodeError);
    }
  });

  it('malformed structure: a JPEG segment length below 2, a PNG without IHDR first, a zero-sized frame', async () => {
    const badLength = jpeg.slice();
    badLength.set([0, 1], 4); // the first segment's length
    await expect(decodeImage(badLength)).rejects.toThrow(/JPEG is malformed/);
    const noIhdr = pngHeaderOnly(4, 4);
    noIhdr.set([0x69], 12); // "iHDR"
    await expect(decodeImage(noIhdr)).rejects.toThrow(/PNG is malformed/);
    const zeroWidth = jpeg.slice();
    const sof = findSegment(zeroWidth, isFrameHeader);
    zeroWidth.set([0, 0], sof + 7); // width
    await expect(decodeImage(zeroWidth)).rejects.toThrow(/declares a 0x16 frame/);
  });

  it('decoder failures, with the decoder\'s own message', async () => {
    // A well-formed chain of segments whose quantisation tables are missing: libjpeg refuses it.
    const noTables = withoutSegments(jpeg, 0xdb);
    expect(noTables.length).toBeLessThan(jpeg.length);
    await expect(decodeImage(noTables)).rejects.toThrow(/^the JPEG decoder failed: .*[Qq]uantization table/);
    // PNG pixel data damaged in the middle: the chunk CRC and zlib stream no longer check.
    const png = readRepoFile('data/images/chelsea.png').slice();
    for (let i = 60_000; i < 60_100; i++) png[i] ^= 0x5a;
    await expect(decodeImage(png)).rejects.toThrow(/^the PNG decoder failed/);
  });

  it('images above the pixel limit, from the header alone, before decoding', async () => {
    await expect(decodeImage(pngHeaderOnly(20_000, 20_000))).rejects.toThrow(ResourceLimitError);
    const huge = jpeg.slice();
    const sof = findSegment(huge, isFrameHeader);
    huge.set([0xea, 0x60, 0xea, 0x60], sof + 5); // 60000 x 60000
    await expect(decodeImage(huge)).rejects.toThrow(/declares 60000x60000 = 3600000000 pixels, above the limit of 100000000/);
    const photo = readRepoFile('data/images/panda.jpg'); // 696 x 613
    await expect(decodeImage(photo, { maxPixels: 696 * 613 - 1 })).rejects.toThrow(ResourceLimitError);
    expect((await decodeImage(photo, { maxPixels: 696 * 613 })).width).toBe(696);
  });

  it('decoded sizes that disagree with the header, from a replaced codec', async () => {
    const lying: ImageCodecs = {
      decodeJpeg: async () => ({ data: new Uint8Array(2 * 2 * 4), width: 2, height: 2 }),
      decodePng: async () => ({ data: new Uint8Array(3 * 4 * 4), width: 3, height: 4 }),
    };
    await expect(decodeImage(jpeg, { codecs: lying })).rejects.toThrow(/returned 2x2 for an image declared as 16x16/);
    expect(await decodeImage(pngHeaderOnly(3, 4), { codecs: lying })).toEqual({ data: new Uint8Array(3 * 4 * 3), width: 3, height: 4 });
  });
});
