/**
 * One dataset file to its network input, the same code on a decode worker and in tests: read the
 * bytes, decode, preprocess. Every failure becomes a typed error whose message names the cause
 * (never the path, which errors.jsonl records beside it).
 */
import { readFileSync, statSync } from 'node:fs';
import { EfficientNetError, ResourceLimitError } from '../errors.js';
import { decodeImage } from '../image/decode.js';
import type { Preprocessor } from '../image/preprocess.js';
import type { DecodeSettings } from './decode-protocol.js';

/** A file that could not be read: missing, vanished since listing, unreadable, not a file. */
export class FileReadError extends EfficientNetError {
  override readonly code: string = 'FILE_READ';
}

/** Node's readFile refuses 2 GiB and more; no photo the decoder accepts is anywhere near. */
const MAX_FILE_BYTES = 2 ** 31 - 1;

const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'the file does not exist (it may have been removed after the list was made)',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory, not a file',
  ELOOP: 'too many symbolic links',
  EIO: 'an I/O error',
};

export function readImageFile(path: string): Uint8Array {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new FileReadError('cannot read: it is not a regular file');
    if (stat.size > MAX_FILE_BYTES) throw new ResourceLimitError(`the file is ${stat.size} bytes, above the ${MAX_FILE_BYTES} bytes one read allows`);
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    if (error instanceof EfficientNetError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    throw new FileReadError(`cannot read: ${READ_PROBLEMS[code] ?? 'the system refused'} (${code})`);
  }
}

/** `[3, size, size]` float32 for one file, or a typed error. */
export async function loadTensor(path: string, settings: DecodeSettings, preprocessor: Preprocessor): Promise<Float32Array> {
  const bytes = readImageFile(path);
  const image = await decodeImage(bytes, { maxPixels: settings.maxPixels, applyOrientation: settings.applyOrientation });
  return preprocessor.preprocess(image, settings.recipe);
}

/** The message and code errors.jsonl records for a failure. */
export function describeFailure(error: unknown): { error: string; code: string } {
  if (error instanceof EfficientNetError) return { error: error.message, code: error.code };
  return { error: `unexpected failure: ${error instanceof Error ? error.message : String(error)}`, code: 'UNEXPECTED' };
}
