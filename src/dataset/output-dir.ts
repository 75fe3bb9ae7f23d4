/**
 * An embedding output directory: `embeddings.npy`, `index.jsonl`, `errors.jsonl` and
 * `manifest.json`, appended to as batches finish and committed at checkpoints.
 *
 * A checkpoint syncs the three data files, then replaces the manifest atomically with the byte
 * lengths committed. A run killed at any moment leaves a manifest describing a valid prefix of
 * every file; resuming truncates each file to its committed length and continues from the list
 * position the manifest records, so the finished files equal an uninterrupted run's bytes.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { OutputMismatchError } from '../errors.js';
import { identityDifference, MANIFEST_FILE, readManifest, writeManifest, FORMAT, type Manifest, type RunIdentity } from './manifest.js';
import { BYTES_PER_VALUE, encodeRows, npyHeader, NPY_HEADER_BYTES } from './npy-rows.js';

export const EMBEDDINGS_FILE = 'embeddings.npy';
export const INDEX_FILE = 'index.jsonl';
export const ERRORS_FILE = 'errors.jsonl';
const OWN_FILES = new Set([EMBEDDINGS_FILE, INDEX_FILE, ERRORS_FILE, MANIFEST_FILE, `${MANIFEST_FILE}.tmp`]);

/** One file that could not be used, as it appears in `errors.jsonl`. */
export interface SkippedFile {
  readonly path: string;
  /** The typed error's message. */
  readonly error: string;
  /** The typed error's code, e.g. IMAGE_DECODE, RESOURCE_LIMIT, FILE_READ. */
  readonly code: string;
}

export type ShardSlice = Manifest['shard'];

export type OpenState = 'new' | 'resumed' | 'complete';

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, position + written);
}

export class EmbeddingDirectory {
  private manifest: Manifest;
  private readonly fds: { embeddings: number; index: number; errors: number };

  private constructor(readonly dir: string, manifest: Manifest, readonly state: OpenState) {
    this.manifest = manifest;
    const open = (name: string, length: number): number => {
      const fd = openSync(join(dir, name), existsSync(join(dir, name)) ? 'r+' : 'w+');
      ftruncateSync(fd, length);
      return fd;
    };
    const { bytes } = manifest;
    this.fds = state === 'complete'
      ? { embeddings: -1, index: -1, errors: -1 }
      : { embeddings: open(EMBEDDINGS_FILE, bytes.embeddings), index: open(INDEX_FILE, bytes.index), errors: open(ERRORS_FILE, bytes.errors) };
    if (state === 'new') writeAll(this.fds.embeddings, npyHeader(0, manifest.dim, manifest.dtype), 0);
  }

  /**
   * Opens `dir` for a run: a new directory (or an empty one) starts fresh, one from the same
   * identity and shard resumes or is already complete, anything else is refused before any file
   * is touched.
   */
  static open(dir: string, identity: RunIdentity, shard: ShardSlice): EmbeddingDirectory {
    mkdirSync(dir, { recursive: true });
    const existing = readManifest(dir);
    if (existing === null) {
      const strangers = readdirSync(dir).filter((name) => !OWN_FILES.has(name));
      if (strangers.length > 0) {
        throw new OutputMismatchError(`${dir} holds other files (${strangers.slice(0, 3).join(', ')}) and no ${MANIFEST_FILE}; give an empty or new --out directory`);
      }
      const manifest: Manifest = {
        format: FORMAT, ...identity, shard, state: 'partial', processed: 0, rows: 0, errors: 0,
        bytes: { embeddings: NPY_HEADER_BYTES, index: 0, errors: 0 },
      };
      writeManifest(dir, manifest);
      return new EmbeddingDirectory(dir, manifest, 'new');
    }
    const difference = identityDifference(existing, identity);
    if (difference !== null) {
      throw new OutputMismatchError(`${dir} was made by a different run (${difference}); choose another --out or remove it`);
    }
    if (existing.shard.index !== shard.index || existing.shard.count !== shard.count) {
      throw new OutputMismatchError(
        `${dir} holds shard ${existing.shard.index}/${existing.shard.count}, not ${shard.index}/${shard.count}; give each shard its own --out`,
      );
    }
    // A file shorter than its committed length was changed behind the manifest's back: resuming
    // would pad it with zeros, so refuse instead.
    for (const [name, length] of [[EMBEDDINGS_FILE, existing.bytes.embeddings], [INDEX_FILE, existing.bytes.index], [ERRORS_FILE, existing.bytes.errors]] as const) {
      const size = existsSync(join(dir, name)) ? statSync(join(dir, name)).size : -1;
      if (size < length) {
        throw new OutputMismatchError(`${join(dir, name)} is ${size < 0 ? 'missing' : `${size} bytes`} but ${MANIFEST_FILE} records ${length} committed bytes; remove ${dir} to start over`);
      }
    }
    return new EmbeddingDirectory(dir, existing, existing.state === 'complete' ? 'complete' : 'resumed');
  }

  get processed(): number {
    return this.manifest.processed;
  }
  get rows(): number {
    return this.manifest.rows;
  }
  get errors(): number {
    return this.manifest.errors;
  }
  get shard(): ShardSlice {
    return this.manifest.shard;
  }

  /**
   * Appends the outcome of the next `consumed` list positions: embedded rows `[paths.length, dim]`
   * with their paths, and the skipped files. Not durable until `checkpoint`.
   */
  append(consumed: number, rows: Float32Array, paths: readonly string[], skipped: readonly SkippedFile[]): void {
    const m = this.manifest;
    if (rows.length !== paths.length * m.dim) throw new RangeError(`${rows.length} values for ${paths.length} rows of ${m.dim}`);
    const rowBytes = encodeRows(rows, m.dtype);
    writeAll(this.fds.embeddings, rowBytes, m.bytes.embeddings);
    const index = Buffer.from(paths.map((path, i) => `${JSON.stringify({ row: m.rows + i, path })}\n`).join(''), 'utf8');
    writeAll(this.fds.index, index, m.bytes.index);
    const errors = Buffer.from(skipped.map((s) => `${JSON.stringify({ path: s.path, error: s.error, code: s.code })}\n`).join(''), 'utf8');
    writeAll(this.fds.errors, errors, m.bytes.errors);
    this.manifest = {
      ...m,
      processed: m.processed + consumed,
      rows: m.rows + paths.length,
      errors: m.errors + skipped.length,
      bytes: { embeddings: m.bytes.embeddings + rowBytes.length, index: m.bytes.index + index.length, errors: m.bytes.errors + errors.length },
    };
  }

  /** Makes everything appended so far durable: data first, then the manifest that points at it. */
  checkpoint(state: 'partial' | 'complete' = 'partial'): void {
    const m = this.manifest;
    writeAll(this.fds.embeddings, npyHeader(m.rows, m.dim, m.dtype), 0);
    for (const fd of [this.fds.embeddings, this.fds.index, this.fds.errors]) fsyncSync(fd);
    this.manifest = { ...m, state };
    writeManifest(this.dir, this.manifest);
  }

  close(): void {
    for (const fd of [this.fds.embeddings, this.fds.index, this.fds.errors]) if (fd >= 0) closeSync(fd);
  }
}

/** Bytes of one row in the file. */
export const rowByteLength = (dim: number, dtype: Manifest['dtype']): number => dim * BYTES_PER_VALUE[dtype];
