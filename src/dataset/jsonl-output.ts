/**
 * A JSON Lines result file (`classify --jsonl FILE`): one line per input in list order, appended
 * batch by batch, with its progress in `FILE.manifest.json` under the same checkpoint rules as an
 * embedding directory (sync the data, then replace the manifest atomically; truncate to the
 * committed length on resume). `-` streams to stdout, with no checkpoint to resume from.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { OutputMismatchError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export const JSONL_FORMAT = 'efficientnet-wasm/classify-jsonl-1';

export interface JsonlManifest {
  readonly format: typeof JSONL_FORMAT;
  /** What made the file: equal identities (JSON-equal) mean it can be resumed. */
  readonly identity: Record<string, unknown>;
  readonly shard: { readonly index: number; readonly count: number; readonly start: number; readonly end: number };
  readonly state: 'partial' | 'complete';
  readonly processed: number;
  readonly errors: number;
  readonly bytes: number;
}

export class JsonlOutput {
  private manifest: JsonlManifest;
  private readonly fd: number;

  private constructor(private readonly path: string | null, manifest: JsonlManifest, readonly state: 'new' | 'resumed' | 'complete') {
    this.manifest = manifest;
    if (path === null || state === 'complete') {
      this.fd = path === null ? 1 : -1;
      return;
    }
    this.fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    ftruncateSync(this.fd, manifest.bytes);
  }

  static open(path: string, identity: Record<string, unknown>, shard: JsonlManifest['shard']): JsonlOutput {
    const fresh: JsonlManifest = { format: JSONL_FORMAT, identity, shard, state: 'partial', processed: 0, errors: 0, bytes: 0 };
    if (path === '-') return new JsonlOutput(null, fresh, 'new');
    mkdirSync(dirname(path), { recursive: true });
    const manifestPath = `${path}.manifest.json`;
    if (!existsSync(manifestPath)) {
      if (existsSync(path)) throw new OutputMismatchError(`${path} exists and has no ${manifestPath}; give a new file name`);
      writeFileAtomic(manifestPath, `${JSON.stringify(fresh, null, 2)}\n`);
      return new JsonlOutput(path, fresh, 'new');
    }
    let existing: JsonlManifest;
    try {
      existing = JSON.parse(readFileSync(manifestPath, 'utf8')) as JsonlManifest;
    } catch (error) {
      throw new OutputMismatchError(`${manifestPath} is not valid JSON (${(error as Error).message}); remove it and ${path}, or give another file`);
    }
    if (existing.format !== JSONL_FORMAT) throw new OutputMismatchError(`${manifestPath} was not written by classify --jsonl; give another file`);
    for (const key of new Set([...Object.keys(identity), ...Object.keys(existing.identity)])) {
      const a = JSON.stringify(existing.identity[key]);
      const b = JSON.stringify(identity[key]);
      if (a !== b) throw new OutputMismatchError(`${path} was made by a different run (${key}: ${a} vs ${b}); give another file or remove it`);
    }
    if (existing.shard.index !== shard.index || existing.shard.count !== shard.count) {
      throw new OutputMismatchError(`${path} holds shard ${existing.shard.index}/${existing.shard.count}, not ${shard.index}/${shard.count}`);
    }
    return new JsonlOutput(path, existing, existing.state === 'complete' ? 'complete' : 'resumed');
  }

  get processed(): number {
    return this.manifest.processed;
  }
  get errors(): number {
    return this.manifest.errors;
  }

  /** Appends the lines of the next `consumed` list positions (one line each). */
  append(lines: readonly string[], errors: number): void {
    const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
    let written = 0;
    const position = this.path === null ? null : this.manifest.bytes;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written, position === null ? null : position + written);
    this.manifest = { ...this.manifest, processed: this.manifest.processed + lines.length, errors: this.manifest.errors + errors, bytes: this.manifest.bytes + bytes.length };
  }

  checkpoint(state: 'partial' | 'complete' = 'partial'): void {
    if (this.path === null) return;
    fsyncSync(this.fd);
    this.manifest = { ...this.manifest, state };
    writeFileAtomic(`${this.path}.manifest.json`, `${JSON.stringify(this.manifest, null, 2)}\n`);
  }

  close(): void {
    if (this.path !== null && this.fd >= 0) closeSync(this.fd);
  }
}
