/**
 * Image bytes to RGB pixels, at the edge of the library. JPEG and PNG are decoded by the
 * @jsquash codecs (mozjpeg and the Rust png crate, compiled to WebAssembly), so Node and
 * browsers decode identically with no native dependency; mozjpeg's output equals libjpeg-turbo's,
 * which Pillow uses, for the test photos.
 *
 * Before any decoder runs, the container is walked here: the format is told from its magic
 * bytes, the declared size is checked against a pixel limit (a small file can declare a huge
 * image), a missing end marker is reported as truncation (libjpeg would pad silently), and the
 * JPEG EXIF orientation is read. Every walk is bounds-checked: malformed input raises
 * ImageDecodeError, never a RangeError or an out-of-bounds read.
 */
import { ImageDecodeError, InputShapeError, ResourceLimitError } from '../errors.js';

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
}

/** 100 megapixels: a 400 MB RGBA decode, well inside what a wasm32 decoder can address. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

type Format = 'jpeg' | 'png';

/** Formats recognised by their magic bytes but not decoded, so the error can name them. */
const UNSUPPORTED: readonly { name: string; magic: readonly (number | null)[] }[] = [
  { name: 'GIF', magic: [0x47, 0x49, 0x46, 0x38] }, // "GIF8"
  { name: 'WebP', magic: [0x52, 0x49, 0x46, 0x46, null, null, null, null, 0x57, 0x45, 0x42, 0x50] }, // "RIFF....WEBP"
  { name: 'BMP', magic: [0x42, 0x4d] }, // "BM"
  { name: 'TIFF', magic: [0x49, 0x49, 0x2a, 0x00] }, // "II*\0"
  { name: 'TIFF', magic: [0x4d, 0x4d, 0x00, 0x2a] }, // "MM\0*"
  { name: 'AVIF', magic: [null, null, null, null, 0x66, 0x74, 0x79, 0x70, 0x61, 0x76, 0x69, 0x66] }, // "....ftypavif"
  { name: 'HEIC', magic: [null, null, null, null, 0x66, 0x74, 0x79, 0x70, 0x68, 0x65, 0x69, 0x63] }, // "....ftypheic"
  { name: 'JPEG XL', magic: [0xff, 0x0a] },
  { name: 'JPEG 2000', magic: [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20] }, // "....jP  "
  { name: 'ICO', magic: [0x00, 0x00, 0x01, 0x00] },
];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const startsWith = (bytes: Uint8Array, magic: readonly (number | null)[]): boolean =>
  bytes.length >= magic.length && magic.every((b, i) => b === null || bytes[i] === b);

function sniffFormat(bytes: Uint8Array): Format {
  if (startsWith(bytes, JPEG_MAGIC)) return 'jpeg';
  if (startsWith(bytes, PNG_MAGIC)) return 'png';
  const known = UNSUPPORTED.find((f) => startsWith(bytes, f.magic));
  if (known) throw new ImageDecodeError(`${known.name} images are not supported; convert the image to JPEG or PNG`);
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ImageDecodeError(`not a JPEG or PNG image (the first bytes are ${head})`);
}

/** What the container says before decoding. */
interface Header {
  readonly width: number;
  readonly height: number;
  /** EXIF orientation 1-8 (1 = upright), 1 when absent or unreadable. */
  readonly orientation: number;
  /** False when the data ends before the format's end marker. */
  readonly complete: boolean;
}

const u16be = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];
const u32be = (b: Uint8Array, at: number): number => ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);

/** PNG: signature, IHDR first, then chunks (length, type, data, CRC) up to IEND. */
function readPngHeader(bytes: Uint8Array): Header {
  const IHDR = 0x49484452;
  const IEND = 0x49454e44;
  if (bytes.length < 8 + 8 + 13) throw new ImageDecodeError(`PNG is truncated: ${bytes.length} bytes end before the image header`);
  if (u32be(bytes, 12) !== IHDR || u32be(bytes, 8) !== 13) throw new ImageDecodeError('PNG is malformed: it does not start with an IHDR chunk');
  const width = u32be(bytes, 16);
  const height = u32be(bytes, 20);
  if (width === 0 || height === 0) throw new ImageDecodeError(`PNG declares an empty image (${width}x${height})`);
  let at = 8;
  while (at + 8 <= bytes.length) {
    const length = u32be(bytes, at);
    const type = u32be(bytes, at + 4);
    if (type === IEND) return { width, height, orientation: 1, complete: true };
    at += 12 + length;
  }
  return { width, height, orientation: 1, complete: false };
}

/** SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC): the frame header with the image size. */
const isStartOfFrame = (marker: number): boolean => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
const SOS = 0xda;
const EOI = 0xd9;
const APP1 = 0xe1;
/** Markers that stand alone, with no length field: TEM, RST0-7, SOI. */
const hasNoLength = (marker: number): boolean => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);

/**
 * JPEG: a chain of marker segments (FF, marker, 16-bit length including itself, data). After each
 * SOS comes entropy-coded data, in which FF is always followed by 00 (a stuffed byte) or a
 * restart marker, so the next segment starts at the first FF followed by anything else.
 */
function readJpegHeader(bytes: Uint8Array): Header {
  let width = 0;
  let height = 0;
  let orientation = 1;
  let at = 2;
  while (at < bytes.length) {
    // libjpeg skips (with a warning) stray bytes before a marker; so does this walk.
    if (bytes[at] !== 0xff) {
      at = bytes.indexOf(0xff, at);
      if (at < 0) break;
    }
    while (at < bytes.length && bytes[at] === 0xff) at++; // FF fill bytes may precede a marker
    if (at >= bytes.length) break;
    const marker = bytes[at];
    at++;
    if (marker === EOI) {
      if (width === 0) throw new ImageDecodeError('JPEG has no frame header (SOF) before its end');
      return { width, height, orientation, complete: true };
    }
    if (hasNoLength(marker)) continue;
    if (at + 2 > bytes.length) break;
    const length = u16be(bytes, at);
    if (length < 2) throw new ImageDecodeError(`JPEG is malformed: segment 0xFF${marker.toString(16).toUpperCase()} at byte ${at - 2} has length ${length}`);
    const data = at + 2;
    const end = at + length;
    if (end > bytes.length) break;
    if (isStartOfFrame(marker)) {
      if (length < 8) throw new ImageDecodeError(`JPEG is malformed: frame header of ${length} bytes`);
      height = u16be(bytes, data + 1);
      width = u16be(bytes, data + 3);
      if (width === 0 || height === 0) {
        throw new ImageDecodeError(`JPEG declares a ${width}x${height} frame (a height set later by a DNL marker is not supported)`);
      }
    } else if (marker === APP1 && orientation === 1) {
      orientation = exifOrientation(bytes.subarray(data, end));
    }
    at = end;
    if (marker === SOS) {
      if (width === 0) throw new ImageDecodeError('JPEG is malformed: scan data before a frame header (SOF)');
      at = nextMarkerAfterScan(bytes, at);
    }
  }
  if (width === 0) throw new ImageDecodeError(`JPEG is truncated: ${bytes.length} bytes end before the frame header`);
  return { width, height, orientation, complete: false };
}

/** Index of the FF starting the first real marker after entropy-coded data, or bytes.length. */
function nextMarkerAfterScan(bytes: Uint8Array, from: number): number {
  let at = from;
  for (;;) {
    at = bytes.indexOf(0xff, at);
    if (at < 0 || at + 1 >= bytes.length) return bytes.length;
    const next = bytes[at + 1];
    const isRestart = next >= 0xd0 && next <= 0xd7;
    if (next !== 0x00 && next !== 0xff && !isRestart) return at;
    at += next === 0xff ? 1 : 2;
  }
}

/**
 * The Orientation tag (0x0112) of IFD0 in an APP1 "Exif\0\0" payload: a TIFF header (byte order,
 * 42, IFD0 offset) then IFD0 (entry count, 12-byte entries: tag, type, count, value). Anything
 * unreadable means "upright", as viewers treat broken EXIF.
 */
function exifOrientation(app1: Uint8Array): number {
  const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"
  const ORIENTATION_TAG = 0x0112;
  const SHORT = 3;
  if (!startsWith(app1, EXIF_HEADER)) return 1;
  const tiff = app1.subarray(EXIF_HEADER.length);
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return 1;
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return 1;
    if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    if (view.getUint16(entry + 2, little) !== SHORT || view.getUint32(entry + 4, little) < 1) return 1;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/**
 * Pixels turned upright for an EXIF orientation. For output pixel (x, y) of the upright image,
 * `source` gives the stored pixel it shows; 5-8 swap the axes.
 *   2 mirrored left-right   3 rotated 180   4 mirrored top-bottom
 *   5 transposed            6 stored 90 degrees counter-clockwise (turn it clockwise)
 *   7 transversed           8 stored 90 degrees clockwise (turn it counter-clockwise)
 */
function orientUpright(image: RgbImage, orientation: number): RgbImage {
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

/** RGBA or RGB bytes to RGB; alpha is dropped, as PIL's convert('RGB') does. */
function toRgb(pixels: PixelData): RgbImage {
  const { width, height, data } = pixels;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InputShapeError(`pixel data must have a positive integer width and height, got ${width}x${height}`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new InputShapeError('pixel data must be a Uint8Array or Uint8ClampedArray');
  }
  const count = width * height;
  if (data.length === count * 3) return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
  if (data.length !== count * 4) {
    throw new InputShapeError(`pixel data for ${width}x${height} must hold ${count * 4} (RGBA) or ${count * 3} (RGB) bytes, got ${data.length}`);
  }
  const rgb = new Uint8Array(count * 3); // [height, width, 3]
  for (let p = 0; p < count; p++) {
    rgb[p * 3] = data[p * 4];
    rgb[p * 3 + 1] = data[p * 4 + 1];
    rgb[p * 3 + 2] = data[p * 4 + 2];
  }
  return { data: rgb, width, height };
}

const isPixelData = (input: Uint8Array | ArrayBuffer | PixelData): input is PixelData =>
  !(input instanceof Uint8Array) && !(input instanceof ArrayBuffer);

/**
 * Decodes JPEG or PNG bytes (or accepts decoded RGBA/RGB pixels) into RGB.
 * Throws ImageDecodeError for empty, truncated, unrecognised, unsupported or undecodable data,
 * ResourceLimitError for an image above `maxPixels`, InputShapeError for inconsistent pixel data.
 */
export async function decodeImage(input: Uint8Array | ArrayBuffer | PixelData, options: DecodeOptions = {}): Promise<RgbImage> {
  if (isPixelData(input)) return toRgb(input);
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
  const codecs = options.codecs ?? (await bundledCodecs());
  let decoded: PixelData;
  try {
    decoded = await (format === 'jpeg' ? codecs.decodeJpeg(bytes) : codecs.decodePng(bytes));
  } catch (error) {
    throw new ImageDecodeError(`the ${name} decoder failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (decoded.width !== header.width || decoded.height !== header.height) {
    throw new ImageDecodeError(`the ${name} decoder returned ${decoded.width}x${decoded.height} for an image declared as ${header.width}x${header.height}`);
  }
  const upright = options.applyOrientation ?? true;
  return upright ? orientUpright(toRgb(decoded), header.orientation) : toRgb(decoded);
}

let bundled: Promise<ImageCodecs> | undefined;

function bundledCodecs(): Promise<ImageCodecs> {
  if (bundled === undefined) {
    bundled = loadBundledCodecs();
    bundled.catch(() => {
      bundled = undefined; // let a later call try again
    });
  }
  return bundled;
}

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/*
 * A failed decode poisons a codec instance. Both codecs report a bad file by throwing a JavaScript
 * exception out through their WebAssembly frames (libjpeg's error_exit ends in Emscripten's exit(),
 * the png crate's errors in wasm-bindgen's throw). That skips the code that would restore the
 * instance's stack pointer and free the decode's buffers, so every failure leaks stack and heap.
 * Measured before this was handled: after 96 failed JPEG decodes (742 failed decodes of a 240 KB
 * PNG) every later decode failed, valid images included ("memory access out of bounds" and the like).
 * So an instance that failed once is dropped, and the next decode gets a fresh instance of the
 * already compiled module (measured: 4 ms for mozjpeg, 0.2 ms for png), paid only after a failure.
 */

/** Node: fetch cannot read files, so the codec `.wasm` is read from node_modules and compiled here. */
async function compileFromPackage(specifier: string): Promise<WebAssembly.Module> {
  const [{ readFile }, { createRequire }] = await Promise.all([import('node:fs/promises'), import('node:module')]);
  return WebAssembly.compile(await readFile(createRequire(import.meta.url).resolve(specifier)));
}

/** mozjpeg through @jsquash's glue, which builds a fresh Emscripten instance on every init(). */
async function jpegDecoder(): Promise<ImageCodecs['decodeJpeg']> {
  const jpeg = await import('@jsquash/jpeg/decode.js');
  // mozjpeg prints libjpeg's warnings and errors; keep them for the error message instead.
  const jpegMessages: string[] = [];
  const jpegOptions = { print: () => {}, printErr: (line: string) => jpegMessages.push(line) };
  // The published typings of init() lag its code, which accepts (module, options) and (options).
  const initJpeg = jpeg.init as (moduleOrOptions?: WebAssembly.Module | object, options?: object) => Promise<void>;
  // Browsers: the glue fetches its `.wasm` next to its JavaScript (again after a failure; the HTTP cache serves it).
  const compiled = isNode() ? await compileFromPackage('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm') : undefined;
  const freshInstance = (): Promise<void> => (compiled ? initJpeg(compiled, jpegOptions) : initJpeg(jpegOptions));
  await freshInstance();
  // One decode at a time, so the messages collected belong to the decode that failed.
  let queue: Promise<unknown> = Promise.resolve();
  return (bytes) => {
    const run = queue.then(async () => {
      jpegMessages.length = 0;
      try {
        return await jpeg.default(copyToArrayBuffer(bytes));
      } catch (error) {
        const detail = jpegMessages.join('; ') || (error instanceof Error ? error.message : String(error));
        await freshInstance();
        throw new Error(detail);
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };
}

type PngExports = import('@jsquash/png/codec/pkg/squoosh_png.js').InitOutput;

/**
 * One instance of the png crate's decoder (squoosh_png_bg.wasm, built with wasm-bindgen), bound
 * here: the package's own glue keeps a single instance for the whole page and cannot make another.
 * JS values cross into wasm as indices into `values`; indices below 132 are wasm-bindgen's fixed
 * slots (128..131: undefined, null, true, false). The decoder hands back its RGBA pixels through the
 * import that would build an ImageData, and its errors through `__wbindgen_throw`.
 */
function instantiatePng(module: WebAssembly.Module): (bytes: Uint8Array) => PixelData {
  const FIRST_FREE_INDEX = 132;
  const FIXED: readonly unknown[] = [undefined, null, true, false];
  const values = new Map<number, unknown>();
  let nextIndex = FIRST_FREE_INDEX;
  const hold = (value: unknown): number => {
    values.set(nextIndex, value);
    return nextIndex++;
  };
  const get = (index: number): unknown => (index < FIRST_FREE_INDEX ? FIXED[index - 128] : values.get(index));
  const take = (index: number): unknown => {
    const value = get(index);
    values.delete(index);
    return value;
  };
  let exports: PngExports;
  const bytesAt = (pointer: number, length: number): Uint8Array => new Uint8Array(exports.memory.buffer, pointer >>> 0, length >>> 0);
  const handlers: Record<string, (...args: number[]) => unknown> = {
    __wbindgen_memory: () => hold(exports.memory),
    __wbg_buffer_: (memory) => hold((get(memory) as WebAssembly.Memory).buffer),
    __wbg_newwithbyteoffsetandlength_: (buffer, offset, length) => hold(new Uint16Array(get(buffer) as ArrayBuffer, offset >>> 0, length >>> 0)),
    __wbindgen_object_drop_ref: (index) => void take(index),
    __wbg_newwithownedu8clampedarrayandsh_: (pointer, length, width, height) => {
      const data = new Uint8ClampedArray(bytesAt(pointer, length)); // [height, width, 4], copied out
      exports.__wbindgen_free(pointer, length, 1);
      return hold({ data, width: width >>> 0, height: height >>> 0 });
    },
    __wbindgen_throw: (pointer, length) => {
      throw new Error(new TextDecoder().decode(bytesAt(pointer, length)));
    },
  };
  // Import names end in a hash that changes between builds; match them by their stable prefix.
  const wbg: Record<string, (...args: number[]) => unknown> = {};
  for (const { name } of WebAssembly.Module.imports(module)) {
    const prefix = Object.keys(handlers).find((key) => name === key || (key.endsWith('_') && name.startsWith(key)));
    if (prefix === undefined) throw new Error(`the PNG codec needs an unknown import "${name}"; the @jsquash/png version is not supported`);
    wbg[name] = handlers[prefix];
  }
  exports = new WebAssembly.Instance(module, { wbg }).exports as unknown as PngExports;
  return (bytes) => {
    // The decoder takes ownership of the copy it is given and frees it.
    const pointer = exports.__wbindgen_malloc(bytes.length, 1) >>> 0;
    bytesAt(pointer, bytes.length).set(bytes);
    return take(exports.decode(pointer, bytes.length)) as PixelData;
  };
}

/** The png crate's decoder, on a fresh instance after any failure. */
async function pngDecoder(): Promise<ImageCodecs['decodePng']> {
  let compiled: WebAssembly.Module;
  if (isNode()) {
    compiled = await compileFromPackage('@jsquash/png/codec/pkg/squoosh_png_bg.wasm');
  } else {
    // Browsers: let the package's glue fetch and compile its `.wasm` (it knows where that lies),
    // then take the compiled module it keeps.
    const glue = await import('@jsquash/png/codec/pkg/squoosh_png.js');
    await glue.default();
    compiled = (glue.default as unknown as { __wbindgen_wasm_module: WebAssembly.Module }).__wbindgen_wasm_module;
  }
  let decode: ((bytes: Uint8Array) => PixelData) | null = null;
  return async (bytes) => {
    decode ??= instantiatePng(compiled);
    try {
      return decode(bytes);
    } catch (error) {
      decode = null;
      throw error;
    }
  };
}

async function loadBundledCodecs(): Promise<ImageCodecs> {
  const [decodeJpeg, decodePng] = await Promise.all([jpegDecoder(), pngDecoder()]);
  return { decodeJpeg, decodePng };
}

/**
 * The JPEG codec takes a whole ArrayBuffer, and a view may cover part of a larger one (a Node
 * Buffer usually lies in a shared pool, and its slice() is a view too), so copy into a fresh buffer.
 */
function copyToArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}
