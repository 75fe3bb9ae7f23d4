/**
 * NumPy `.npy` files, the exchange format with PyTorch users: read float32/float64 C-order
 * arrays, write float32. The header is a Python dict literal; it is parsed with a strict pattern,
 * never evaluated.
 */
import { InputShapeError } from '../errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** A real header is under 200 bytes; anything far larger is not a tensor file we produced or expect. */
const MAX_HEADER_BYTES = 65536;

export interface NpyArray {
  readonly shape: number[];
  /** Values converted to float32, C order. */
  readonly data: Float32Array;
}

function fail(what: string, detail: string): never {
  throw new InputShapeError(`${what}: ${detail}`);
}

export function parseNpy(bytes: Uint8Array, what = '.npy file'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail(what, 'not a .npy file (bad magic bytes)');
  const major = bytes[6];
  if (major < 1 || major > 3) fail(what, `unsupported .npy version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail(what, 'truncated header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  if (headerLength > MAX_HEADER_BYTES || headerStart + headerLength > bytes.length) {
    fail(what, `header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  }
  let header: string;
  try {
    header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(bytes.subarray(headerStart, headerStart + headerLength));
  } catch {
    fail(what, 'header is not valid text');
  }
  const descr = /['"]descr['"]\s*:\s*['"]([<>|=]?[a-zA-Z]\d*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(what, 'header lacks descr, fortran_order or shape');
  }
  if (fortran === 'True') fail(what, 'Fortran-order arrays are not supported; save with np.ascontiguousarray(x)');
  const itemSize = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (itemSize === 0) fail(what, `dtype "${descr}" is not supported; expected little-endian float32 (<f4) or float64 (<f8)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    // Quoted as JSON and cut short: the header is untrusted and may hold line breaks (found by fuzzing).
    if (!/^\d+$/.test(s)) fail(what, `shape entry ${JSON.stringify(s.slice(0, 40))} is not a non-negative integer`);
    // Past 2^53 a size is not exact, and next to a 0 it would still pass the byte count (found by fuzzing).
    if (!Number.isSafeInteger(Number(s))) fail(what, `shape entry ${s.slice(0, 40)} is too large`);
    return Number(s);
  });
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  if (!Number.isSafeInteger(count) || bytes.length - dataStart !== count * itemSize) {
    fail(what, `shape (${shape.join(', ')}) needs ${count * itemSize} data bytes but the file has ${bytes.length - dataStart}`);
  }
  const data = new Float32Array(count); // [count]
  if (itemSize === 4) {
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + count * 4));
  } else {
    for (let i = 0; i < count; i++) data[i] = view.getFloat64(dataStart + i * 8, true);
  }
  return { shape, data };
}

/** A version 1.0 float32 C-order `.npy`, header padded so the data starts on a 64-byte boundary. */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
