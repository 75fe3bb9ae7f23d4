/**
 * A weights file on disk as a ByteSource: read by range with `readSync` at an offset, so a
 * checkpoint of any size (L2's 1.9 GB, or more than Node's 2 GiB readFile limit) is never held
 * whole; only the header, the tensor index and one tensor at a time are. Node-only, so it lives
 * with the CLI: browsers load `src/weights/` and must never see `node:fs`.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { checkRange } from '../weights/byte-source.js';
import type { ByteSource } from '../weights/source.js';

export interface FileByteSource extends ByteSource {
  close(): void;
}

export function openFileSource(path: string, what: string): FileByteSource {
  let descriptor: number;
  let length: number;
  try {
    descriptor = openSync(path, 'r');
  } catch (error) {
    throw new ConfigError(`cannot read ${what} "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    const stat = fstatSync(descriptor);
    if (!stat.isFile()) throw new ConfigError(`${what} "${path}" is not a file`);
    length = stat.size;
  } catch (error) {
    closeSync(descriptor);
    throw error;
  }
  let open = true;
  return {
    length,
    read(offset: number, count: number): Uint8Array {
      checkRange(offset, count, length);
      if (!open) throw new ConfigError(`${what} "${path}" was already closed`);
      const bytes = new Uint8Array(count); // [count bytes from offset]
      let done = 0;
      while (done < count) {
        const got = readSync(descriptor, bytes, done, count - done, offset + done);
        if (got === 0) throw new ConfigError(`${what} "${path}" became shorter while it was being read`);
        done += got;
      }
      return bytes;
    },
    close(): void {
      if (open) closeSync(descriptor);
      open = false;
    },
  };
}

/** Runs `use` with the file open, and closes it however `use` ends. */
export async function withFileSource<T>(path: string, what: string, use: (source: ByteSource) => Promise<T> | T): Promise<T> {
  const source = openFileSource(path, what);
  try {
    return await use(source);
  } finally {
    source.close();
  }
}
