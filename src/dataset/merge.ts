/**
 * Joins the output directories of `embed --shard I/N` (I = 0 … N-1) into one directory with the
 * bytes a single run over the whole list writes: the rows concatenated in shard order (shards are
 * contiguous slices of the sorted list), index rows renumbered, errors concatenated, and the
 * manifest of an unsharded run. Files are streamed, so memory does not depend on their size.
 */
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { OutputMismatchError } from '../errors.js';
import { FORMAT, identityDifference, identityOf, MANIFEST_FILE, readManifest, writeManifest, type Manifest } from './manifest.js';
import { npyHeader, NPY_HEADER_BYTES } from './npy-rows.js';
import { EMBEDDINGS_FILE, ERRORS_FILE, INDEX_FILE, rowByteLength } from './output-dir.js';

export interface MergeReport {
  readonly rows: number;
  readonly errors: number;
  readonly bytes: number;
}

/** Checks the shards belong together and cover the list exactly once, in shard order. */
function orderedShards(dirs: readonly string[]): { dir: string; manifest: Manifest }[] {
  const shards = dirs.map((dir) => {
    const manifest = readManifest(dir);
    if (manifest === null) throw new OutputMismatchError(`${dir} has no ${MANIFEST_FILE}: it is not an embed output directory`);
    if (manifest.state !== 'complete') {
      throw new OutputMismatchError(`${dir} (shard ${manifest.shard.index}/${manifest.shard.count}) is not complete (${manifest.processed} of ${manifest.shard.end - manifest.shard.start} done); run its embed command again to finish it`);
    }
    return { dir, manifest };
  });
  const first = shards[0].manifest;
  for (const { dir, manifest } of shards.slice(1)) {
    const difference = identityDifference(first, manifest);
    if (difference !== null) throw new OutputMismatchError(`${shards[0].dir} and ${dir} come from different runs (${difference})`);
    if (manifest.shard.count !== first.shard.count) {
      throw new OutputMismatchError(`${shards[0].dir} is one of ${first.shard.count} shards but ${dir} is one of ${manifest.shard.count}`);
    }
  }
  shards.sort((a, b) => a.manifest.shard.index - b.manifest.shard.index);
  const indices = shards.map((s) => s.manifest.shard.index);
  const expected = Array.from({ length: first.shard.count }, (_, i) => i);
  if (indices.join() !== expected.join()) {
    throw new OutputMismatchError(`merge needs each of the shards 0 … ${first.shard.count - 1} exactly once; got ${indices.join(', ')}`);
  }
  let position = 0;
  for (const { dir, manifest } of shards) {
    if (manifest.shard.start !== position) throw new OutputMismatchError(`${dir} starts at list position ${manifest.shard.start}, expected ${position}`);
    position = manifest.shard.end;
  }
  if (position !== first.list.count) throw new OutputMismatchError(`the shards cover ${position} of the list's ${first.list.count} paths`);
  return shards;
}

function writeAll(fd: number, bytes: Uint8Array, position: number): number {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, position + written);
  return bytes.length;
}

/** Copies `length` bytes of `path` from `offset` to `fd` at `position`, 4 MiB at a time. */
function copyRange(path: string, offset: number, length: number, fd: number, position: number): void {
  const source = openSync(path, 'r');
  const chunk = new Uint8Array(4 * 2 ** 20);
  try {
    for (let done = 0; done < length;) {
      const read = readSync(source, chunk, 0, Math.min(chunk.length, length - done), offset + done);
      if (read === 0) throw new OutputMismatchError(`${path} ends before its ${length} committed bytes`);
      writeAll(fd, chunk.subarray(0, read), position + done);
      done += read;
    }
  } finally {
    closeSync(source);
  }
}

export async function mergeShards(dirs: readonly string[], outDir: string): Promise<MergeReport> {
  if (dirs.length === 0) throw new OutputMismatchError('give the shard directories to merge');
  const shards = orderedShards(dirs);
  mkdirSync(outDir, { recursive: true });
  if (readdirSync(outDir).length > 0) throw new OutputMismatchError(`${outDir} is not empty; give a new or empty --out directory`);
  const first = shards[0].manifest;
  const rowBytes = rowByteLength(first.dim, first.dtype);
  const rows = shards.reduce((sum, s) => sum + s.manifest.rows, 0);

  const embeddings = openSync(join(outDir, EMBEDDINGS_FILE), 'w');
  const index = openSync(join(outDir, INDEX_FILE), 'w');
  const errors = openSync(join(outDir, ERRORS_FILE), 'w');
  let bytes = { embeddings: 0, index: 0, errors: 0 };
  let rowBase = 0;
  try {
    bytes.embeddings += writeAll(embeddings, npyHeader(rows, first.dim, first.dtype), 0);
    for (const { dir, manifest } of shards) {
      const dataBytes = manifest.rows * rowBytes;
      if (manifest.bytes.embeddings !== NPY_HEADER_BYTES + dataBytes) {
        throw new OutputMismatchError(`${dir}: the manifest's byte count of ${EMBEDDINGS_FILE} does not match its ${manifest.rows} rows`);
      }
      copyRange(join(dir, EMBEDDINGS_FILE), NPY_HEADER_BYTES, dataBytes, embeddings, bytes.embeddings);
      bytes.embeddings += dataBytes;
      copyRange(join(dir, ERRORS_FILE), 0, manifest.bytes.errors, errors, bytes.errors);
      bytes.errors += manifest.bytes.errors;
      // Index rows restart at 0 in every shard: renumber them, line by line.
      const lines = createInterface({ input: createReadStream(join(dir, INDEX_FILE), { start: 0, end: Math.max(0, manifest.bytes.index - 1) }), crlfDelay: Infinity });
      let count = 0;
      if (manifest.bytes.index > 0) {
        let pending = '';
        for await (const line of lines) {
          const { row, path } = JSON.parse(line) as { row: number; path: string };
          if (row !== count) throw new OutputMismatchError(`${dir}/${INDEX_FILE} line ${count + 1} has row ${row}`);
          pending += `${JSON.stringify({ row: rowBase + row, path })}\n`;
          count++;
          if (pending.length > 2 ** 20) {
            bytes.index += writeAll(index, Buffer.from(pending, 'utf8'), bytes.index);
            pending = '';
          }
        }
        bytes.index += writeAll(index, Buffer.from(pending, 'utf8'), bytes.index);
      } else {
        lines.close();
      }
      if (count !== manifest.rows) throw new OutputMismatchError(`${dir}/${INDEX_FILE} has ${count} rows, its manifest ${manifest.rows}`);
      rowBase += manifest.rows;
    }
    for (const fd of [embeddings, index, errors]) fsyncSync(fd);
  } finally {
    for (const fd of [embeddings, index, errors]) closeSync(fd);
  }
  const merged: Manifest = {
    format: FORMAT, ...identityOf(first),
    shard: { index: 0, count: 1, start: 0, end: first.list.count },
    state: 'complete',
    processed: first.list.count,
    rows,
    errors: shards.reduce((sum, s) => sum + s.manifest.errors, 0),
    bytes,
  };
  writeManifest(outDir, merged);
  const total = [EMBEDDINGS_FILE, INDEX_FILE, ERRORS_FILE, MANIFEST_FILE].reduce((sum, f) => sum + statSync(join(outDir, f)).size, 0);
  return { rows, errors: merged.errors, bytes: total };
}
