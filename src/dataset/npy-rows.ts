/**
 * The `.npy` layout of an embedding matrix that grows row by row: a header of fixed length (so it
 * can be rewritten in place as rows are added) followed by `[rows, dim]` little-endian float32 or
 * float16 values in C order. NumPy reads it with `np.load`, also while a run is under way.
 */
import { encodeFloat16Into } from '../weights/float16.js';

export type RowDtype = 'f32' | 'f16';

/** The preamble (magic, version, header length, header, padding) is always this long. */
export const NPY_HEADER_BYTES = 128;

const DESCR: Record<RowDtype, string> = { f32: '<f4', f16: '<f2' };
export const BYTES_PER_VALUE: Record<RowDtype, number> = { f32: 4, f16: 2 };

/**
 * A version 1.0 header of exactly NPY_HEADER_BYTES bytes for `[rows, dim]`. The dict is padded
 * with spaces to the fixed length, which NumPy allows (it only asks that the data start at a
 * multiple of 64 and the header end in a newline).
 */
export function npyHeader(rows: number, dim: number, dtype: RowDtype): Uint8Array {
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  const textLength = NPY_HEADER_BYTES - 10;
  if (dict.length + 1 > textLength) throw new RangeError(`a [${rows}, ${dim}] header does not fit in ${NPY_HEADER_BYTES} bytes`);
  const text = dict + ' '.repeat(textLength - dict.length - 1) + '\n';
  const out = new Uint8Array(NPY_HEADER_BYTES);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // "\x93NUMPY", version 1.0
  new DataView(out.buffer).setUint16(8, textLength, true);
  for (let i = 0; i < textLength; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/** The bytes of rows `[count, dim]` float32 in the file's dtype (float16 rounds to nearest even). */
export function encodeRows(rows: Float32Array, dtype: RowDtype): Uint8Array {
  if (dtype === 'f32') return new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
  const out = new Uint8Array(rows.length * 2); // [count, dim] f16
  encodeFloat16Into(rows, out, 0);
  return out;
}

/** Reads the `[rows, dim]` and dtype back from a header this module wrote, or null. */
export function readNpyHeader(header: Uint8Array): { rows: number; dim: number; dtype: RowDtype } | null {
  if (header.length < NPY_HEADER_BYTES) return null;
  const text = String.fromCharCode(...header.subarray(10, NPY_HEADER_BYTES));
  const match = /'descr': '(<f4|<f2)', 'fortran_order': False, 'shape': \((\d+), (\d+)\)/.exec(text);
  if (!match) return null;
  return { dtype: match[1] === '<f4' ? 'f32' : 'f16', rows: Number(match[2]), dim: Number(match[3]) };
}
