/**
 * File access for the CLI: reads exactly the files named on the command line and writes only
 * where told, turning missing files into clear errors.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, ResourceLimitError } from '../errors.js';

/** Node's readFile refuses files of 2 GiB or more; the largest checkpoint (L2) is 1.9 GB. */
const MAX_READ_BYTES = 2 ** 31 - 1;

export function readInputFile(path: string, what: string): Uint8Array {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ConfigError(`${what} "${path}" is not a file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot read ${what} "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (size > MAX_READ_BYTES) throw new ResourceLimitError(`${what} "${path}" is ${size} bytes, above the 2 GiB a single read allows`);
  return new Uint8Array(readFileSync(path));
}

export function writeOutputFile(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** Hex SHA-256 of a file, streamed: a checkpoint is never held whole for it. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
