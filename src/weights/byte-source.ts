/**
 * The in-memory ByteSource: a byte array read by range without copying (each read is a
 * `subarray` view). A file read by range from disk lives in the CLI (`src/cli/file-source.ts`),
 * because browsers load this folder and must never see `node:fs`.
 */
import { WeightsFormatError } from '../errors.js';
import type { ByteSource } from './source.js';

/** Throws unless [offset, offset + length) lies inside a source of `total` bytes. */
export function checkRange(offset: number, length: number, total: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > total) {
    throw new WeightsFormatError(
      `the file is truncated: a read of ${length} bytes at offset ${offset} passes its end at ${total} bytes`,
    );
  }
}

export function memoryByteSource(bytes: Uint8Array): ByteSource {
  return {
    length: bytes.length,
    read(offset: number, length: number): Uint8Array {
      checkRange(offset, length, bytes.length);
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** Whether a value already is a ByteSource (and not a byte array). */
export function isByteSource(value: unknown): value is ByteSource {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !(value instanceof ArrayBuffer) &&
    typeof (value as ByteSource).length === 'number' && typeof (value as ByteSource).read === 'function';
}
