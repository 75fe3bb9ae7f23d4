/**
 * Image bytes to RGB pixels, at the edge of the library. JPEG and PNG are decoded by the
 * @jsquash codecs (mozjpeg and the Rust png crate, compiled to WebAssembly), so Node and
 * browsers decode identically with no native dependency; mozjpeg's output equals libjpeg-turbo's,
 * which Pillow uses, for the test photos.
 *
 * Before any decoder runs, the container is walked (`container.ts`): the declared size is
 * checked against a pixel limit, a missing end marker is reported as truncation (libjpeg would
 * pad silently), and the JPEG EXIF orientation is read and applied after decoding.
 */
import { ImageDecodeError, InputShapeError, ResourceLimitError } from '../errors.js';
import { bundledCodecs, type CodecWasm } from './codecs.js';
import { readJpegHeader, readPngHeader, sniffFormat } from './container.js';
import { orientUpright } from './orientation.js';

/** 8-bit RGB pixels. */
export interface RgbImage {
  readonly data: Uint8Array; // [height, width, 3]
  readonly width: number;
  readonly height: number;
}

/** Already-decoded pixels, e.g. a canvas ImageData: RGBA ([h, w, 4]) or RGB ([h, w, 3]) bytes. */
export interface PixelData {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** The two decoders; replaceable, e.g. to load the codec `.wasm` files from a custom location. */
export interface ImageCodecs {
  decodeJpeg(bytes: Uint8Array): Promise<PixelData>;
  decodePng(bytes: Uint8Array): Promise<PixelData>;
}

export interface DecodeOptions {
  /** Refuse images whose header declares more pixels than this. Default DEFAULT_MAX_PIXELS. */
  readonly maxPixels?: number;
  /**
   * Turn JPEGs upright as their EXIF orientation says, as browsers and phones show them.
   * Default true. timm's loaders do not (PIL's Image.open ignores EXIF), so pass false to feed
   * a network exactly the pixels timm would.
   */
  readonly applyOrientation?: boolean;
  /** Decoders to use instead of the bundled @jsquash ones. */
  readonly codecs?: ImageCodecs;
  /** Where the bundled decoders' `.wasm` files are, if not in the package (e.g. after an esbuild bundle). */
  readonly codecWasm?: CodecWasm;
}

export type { CodecWasm };

/** 100 megapixels: a 400 MB RGBA decode, well inside what a wasm32 decoder can address. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Checks the shape of decoded pixels; returns their bytes per pixel. */
function pixelBytes(pixels: PixelData): 3 | 4 {
  const { width, height, data } = pixels;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InputShapeError(`pixel data must have a positive integer width and height, got ${width}x${height}`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new InputShapeError('pixel data must be a Uint8Array or Uint8ClampedArray');
  }
  const count = width * height;
  if (data.length === count * 3) return 3;
  if (data.length !== count * 4) {
    throw new InputShapeError(`pixel data for ${width}x${height} must hold ${count * 4} (RGBA) or ${count * 3} (RGB) bytes, got ${data.length}`);
  }
  return 4;
}

/** RGBA or RGB bytes to RGB; alpha is dropped, as PIL's convert('RGB') does. */
function toRgb(pixels: PixelData): RgbImage {
  const { width, height, data } = pixels;
  if (pixelBytes(pixels) === 3) return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
  const count = width * height;
  const rgb = new Uint8Array(count * 3); // [height, width, 3]
  const packed = LITTLE_ENDIAN && data.byteOffset % 4 === 0 ? packRgbaWords(data, rgb, count) : 0;
  for (let p = packed; p < count; p++) {
    rgb[p * 3] = data[p * 4];
    rgb[p * 3 + 1] = data[p * 4 + 1];
    rgb[p * 3 + 2] = data[p * 4 + 2];
  }
  return { data: rgb, width, height };
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Drops alpha from whole groups of 4 pixels a 32-bit word at a time (4 RGBA words in, 3 RGB
 * words out): the same bytes as the per-byte loop, about four times sooner on a photo, where the
 * byte loop had been a fifth of the decode worker's time. Little-endian word order only; returns
 * the pixels done.
 */
function packRgbaWords(rgba: Uint8Array | Uint8ClampedArray, rgb: Uint8Array, count: number): number {
  const groups = Math.floor(count / 4);
  const source = new Uint32Array(rgba.buffer, rgba.byteOffset, groups * 4); // [groups, 4 pixels] RGBA words
  const target = new Uint32Array(rgb.buffer, 0, groups * 3); // [groups, 3 words] of 4 RGB pixels
  for (let g = 0, s = 0, t = 0; g < groups; g++, s += 4, t += 3) {
    const p0 = source[s], p1 = source[s + 1], p2 = source[s + 2], p3 = source[s + 3];
    target[t] = (p0 & 0xffffff) | (p1 << 24); // R0 G0 B0 R1
    target[t + 1] = ((p1 >>> 8) & 0xffff) | (p2 << 16); // G1 B1 R2 G2
    target[t + 2] = ((p2 >>> 16) & 0xff) | (p3 << 8); // B2 R3 G3 B3
  }
  return groups * 4;
}

/**
 * The library takes image bytes, never names: a string could be a path (Node) or a URL (browsers),
 * and reading either is the caller's choice. So a string, a Blob or anything else that is not
 * bytes or pixels is refused with what to pass instead.
 */
function checkImageInput(input: unknown): void {
  if (typeof input === 'string') {
    const shown = input.length > 60 ? `${input.slice(0, 57)}...` : input;
    throw new InputShapeError(
      `got the string "${shown}" where image bytes were expected; pass the file's bytes, e.g. ` +
      '`await readFile(path)` in Node or `new Uint8Array(await (await fetch(url)).arrayBuffer())` in a browser',
    );
  }
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) return;
  if (typeof input === 'object' && input !== null && typeof (input as { arrayBuffer?: unknown }).arrayBuffer === 'function') {
    throw new InputShapeError('got a Blob or File where image bytes were expected; pass `new Uint8Array(await blob.arrayBuffer())`');
  }
  if (typeof input !== 'object' || input === null || !('data' in input)) {
    const kind = input === null ? 'null' : typeof input === 'object' ? (input.constructor?.name ?? 'an object') : typeof input;
    throw new InputShapeError(
      `an image must be JPEG or PNG bytes (Uint8Array or ArrayBuffer) or decoded pixels { data, width, height }, got ${kind}`,
    );
  }
}

const isPixelData = (input: Uint8Array | ArrayBuffer | PixelData): input is PixelData =>
  !(input instanceof Uint8Array) && !(input instanceof ArrayBuffer);

/**
 * Decodes JPEG or PNG bytes (or accepts decoded RGBA/RGB pixels) into RGB.
 * Throws ImageDecodeError for empty, truncated, unrecognised, unsupported or undecodable data,
 * ResourceLimitError for an image above `maxPixels`, InputShapeError for inconsistent pixel data.
 */
export async function decodeImage(input: Uint8Array | ArrayBuffer | PixelData, options: DecodeOptions = {}): Promise<RgbImage> {
  return toRgb(await decodePixels(input, options));
}

/**
 * `decodeImage` without the alpha drop: the decoder's own RGBA (or RGB) bytes, checked, for the
 * preprocessor, which reads either. A JPEG turned upright by its orientation comes back as RGB.
 */
export async function decodePixels(input: Uint8Array | ArrayBuffer | PixelData, options: DecodeOptions = {}): Promise<PixelData> {
  checkImageInput(input);
  if (isPixelData(input)) {
    pixelBytes(input);
    return input;
  }
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (bytes.length === 0) throw new ImageDecodeError('image is empty (0 bytes)');
  const format = sniffFormat(bytes);
  const name = format === 'jpeg' ? 'JPEG' : 'PNG';
  const header = format === 'jpeg' ? readJpegHeader(bytes) : readPngHeader(bytes);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (header.width * header.height > maxPixels) {
    throw new ResourceLimitError(
      `${name} declares ${header.width}x${header.height} = ${header.width * header.height} pixels, above the limit of ` +
      `${maxPixels}; if the image is trusted, raise the limit (the maxPixels option, or --max-pixels on the command line)`,
    );
  }
  if (!header.complete) throw new ImageDecodeError(`${name} is truncated: its ${bytes.length} bytes end before the end-of-image marker`);
  const codecs = options.codecs ?? (await bundledCodecs(options.codecWasm));
  let decoded: PixelData;
  try {
    decoded = await (format === 'jpeg' ? codecs.decodeJpeg(bytes) : codecs.decodePng(bytes));
  } catch (error) {
    throw new ImageDecodeError(`the ${name} decoder failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (decoded.width !== header.width || decoded.height !== header.height) {
    throw new ImageDecodeError(`the ${name} decoder returned ${decoded.width}x${decoded.height} for an image declared as ${header.width}x${header.height}`);
  }
  pixelBytes(decoded);
  const upright = options.applyOrientation ?? true;
  return upright && header.orientation !== 1 ? orientUpright(toRgb(decoded), header.orientation) : decoded;
}
