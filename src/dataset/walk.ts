/**
 * The input list of a dataset run: files named on the command line or in a list file, and the
 * image files found by walking directories. One global order, sorted by the UTF-8 bytes of each
 * path, so every machine and every shard agrees on which row is which.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ConfigError } from '../errors.js';

/** The extensions of the formats the decoder reads (JPEG and PNG), compared lower-cased. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png']);

export const isImageName = (name: string): boolean => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

/** Byte order of the UTF-8 encodings, not UTF-16 code units (which differ above U+FFFF). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Links to files are followed (photo collections are often trees of links into storage); links to
 * directories are not, so a link cycle cannot make the walk endless.
 */
function isLinkToFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // a dangling link is no image
  }
}

function walkDirectory(dir: string, into: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw new ConfigError(`cannot list directory "${dir}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walkDirectory(path, into);
    else if ((entry.isFile() || (entry.isSymbolicLink() && isLinkToFile(path))) && isImageName(entry.name)) into.push(path);
  }
}

/** Paths of a list file: one per line; blank lines are skipped, a trailing CR is dropped. */
export function readListFile(listPath: string): string[] {
  let text: string;
  try {
    text = readFileSync(listPath, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the list file "${listPath}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return text.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.length > 0);
}

/**
 * Every input, sorted by path bytes. Directories are walked recursively for image extensions
 * (any case); files named directly or listed are kept whatever their name, and checked only when
 * read, so a file that vanishes after listing becomes an error row, not a failed run.
 */
export function collectInputs(paths: readonly string[], listFile?: string): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      throw new ConfigError(`cannot read "${path}": no such file or directory`);
    }
    if (isDirectory) walkDirectory(path, files);
    else files.push(path);
  }
  if (listFile !== undefined) files.push(...readListFile(listFile));
  return files.sort(compareBytes);
}

/** SHA-256 of the sorted list (each path and a newline): two runs over the same list agree on it. */
export function listDigest(paths: readonly string[]): string {
  const hash = createHash('sha256');
  for (const path of paths) hash.update(`${path}\n`);
  return hash.digest('hex');
}
