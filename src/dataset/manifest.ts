/**
 * `manifest.json` of an output directory: what made it (model, weights, preprocessing, layer,
 * list, shard) and how far it got. Two directories from the same model, weights and list agree on
 * every field but the progress ones; nothing in it depends on time or machine, so a merged result
 * and a single run have the same bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputMismatchError } from '../errors.js';
import type { RowDtype } from './npy-rows.js';
import { writeFileAtomic } from './atomic.js';

export const MANIFEST_FILE = 'manifest.json';
export const FORMAT = 'efficientnet-wasm/embeddings-1';

/** What made a result: equal identities mean rows can be resumed or merged. */
export interface RunIdentity {
  readonly model: string;
  readonly weights: { readonly sha256: string; readonly synthetic: boolean };
  /** The recipe as data (size, crop, interpolation, mean, std). */
  readonly preprocessing: unknown;
  /** `pooled`, or `stage-K`. */
  readonly layer: string;
  readonly dim: number;
  readonly dtype: RowDtype;
  readonly list: { readonly sha256: string; readonly count: number };
}

export interface Manifest extends RunIdentity {
  readonly format: typeof FORMAT;
  readonly shard: { readonly index: number; readonly count: number; readonly start: number; readonly end: number };
  readonly state: 'partial' | 'complete';
  /** List positions of this shard consumed, from `shard.start`: rows plus skipped files. */
  readonly processed: number;
  readonly rows: number;
  readonly errors: number;
  /** Committed byte lengths: anything past them is from after the last checkpoint. */
  readonly bytes: { readonly embeddings: number; readonly index: number; readonly errors: number };
}

export function readManifest(dir: string): Manifest | null {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return null;
  let parsed: Manifest;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (error) {
    throw new OutputMismatchError(`${path} is not valid JSON (${(error as Error).message}); remove the directory or choose another --out`);
  }
  if (parsed === null || typeof parsed !== 'object' || parsed.format !== FORMAT) {
    throw new OutputMismatchError(`${path} was not written by this version of efficientnet embed; choose another --out`);
  }
  return parsed;
}

export function writeManifest(dir: string, manifest: Manifest): void {
  writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The first field where two identities differ, described for an error message, or null. */
export function identityDifference(a: RunIdentity, b: RunIdentity): string | null {
  const fields: [string, unknown, unknown][] = [
    ['model', a.model, b.model],
    ['weights SHA-256', a.weights.sha256, b.weights.sha256],
    ['preprocessing', JSON.stringify(a.preprocessing), JSON.stringify(b.preprocessing)],
    ['layer', a.layer, b.layer],
    ['dtype', a.dtype, b.dtype],
    ['input list (SHA-256 of the sorted paths)', a.list.sha256, b.list.sha256],
  ];
  for (const [name, x, y] of fields) if (x !== y) return `${name}: ${String(x)} vs ${String(y)}`;
  return null;
}

export function identityOf(m: RunIdentity): RunIdentity {
  return { model: m.model, weights: m.weights, preprocessing: m.preprocessing, layer: m.layer, dim: m.dim, dtype: m.dtype, list: m.list };
}
