/**
 * What a JPEG or PNG file says about itself before any decoder runs: the format from its magic
 * bytes, the declared size (so a small file declaring a huge image is refused before decoding),
 * whether the end marker is present, and the JPEG EXIF orientation. Every walk is bounds-checked:
 * malformed input raises ImageDecodeError, never a RangeError or an out-of-bounds read.
 */
import { ImageDecodeError } from '../errors.js';

export type Format = 'jpeg' | 'png';

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

export function sniffFormat(bytes: Uint8Array): Format {
  if (startsWith(bytes, JPEG_MAGIC)) return 'jpeg';
  if (startsWith(bytes, PNG_MAGIC)) return 'png';
  const known = UNSUPPORTED.find((f) => startsWith(bytes, f.magic));
  if (known) throw new ImageDecodeError(`${known.name} images are not supported; convert the image to JPEG or PNG`);
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ImageDecodeError(`not a JPEG or PNG image (the first bytes are ${head})`);
}

/** What the container says before decoding. */
export interface Header {
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
export function readPngHeader(bytes: Uint8Array): Header {
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
export function readJpegHeader(bytes: Uint8Array): Header {
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
