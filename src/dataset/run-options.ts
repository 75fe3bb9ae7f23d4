/**
 * What the dataset commands (`embed`, `classify --jsonl`) share: the input list and shard, the
 * model and its weights identity, the decode and checkpoint settings, and stop-on-signal.
 */
import { availableParallelism } from 'node:os';
import type { EfficientNet } from '../efficientnet.js';
import { ConfigError } from '../errors.js';
import { LOAD_MODEL_OPTIONS, loadModelWithDigest, modelRequest, type LoadValues } from '../cli/load-model.js';
import { integerOption, UsageError } from '../cli/args.js';
import { engineChoice, engineFallbacks, ENGINE_OPTIONS } from '../cli/engine-options.js';
import { collectInputs, listDigest } from './walk.js';
import { parseShard, shardRange, type Shard } from './shard.js';

export const DATASET_OPTIONS = {
  ...LOAD_MODEL_OPTIONS,
  list: { type: 'string' },
  batch: { type: 'string' },
  shard: { type: 'string' },
  'decode-threads': { type: 'string' },
  'max-pixels': { type: 'string' },
  'checkpoint-seconds': { type: 'string' },
  'progress-seconds': { type: 'string' },
  quiet: { type: 'boolean', default: false },
  ...ENGINE_OPTIONS,
} as const;

export const DATASET_USAGE = '[--list FILE] [--batch N] [--threads T|auto] [--decode-threads D] [--shard I/N] ' +
  '[--max-pixels N] [--checkpoint-seconds S] [--progress-seconds S] [--quiet]';

type DatasetValues = LoadValues & {
  list?: string; batch?: string; shard?: string;
  'decode-threads'?: string; 'max-pixels'?: string; 'checkpoint-seconds'?: string; 'progress-seconds'?: string;
  quiet?: boolean; threads?: string; simd?: string;
};

export interface DatasetSetup {
  readonly net: EfficientNet;
  readonly model: string;
  readonly weights: { readonly sha256: string; readonly synthetic: boolean };
  /** The whole sorted list, and this shard's slice of it. */
  readonly list: { readonly sha256: string; readonly count: number };
  readonly shard: Shard & { readonly start: number; readonly end: number };
  readonly paths: readonly string[];
  readonly batchSize: number;
  readonly decodeThreads: number;
  readonly maxPixels: number | undefined;
  readonly checkpointSeconds: number;
  readonly progressSeconds: number;
  readonly quiet: boolean;
}

function secondsOption(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new UsageError(`${flag} must be a number of seconds >= 0, got "${value}"`);
  return parsed;
}

/** Everything is checked (options, list, weights) before the model is built or any output touched. */
export async function setUpDataset(values: DatasetValues, positionals: readonly string[]): Promise<DatasetSetup> {
  const request = modelRequest(values);
  if (positionals.length === 0 && values.list === undefined) throw new UsageError('give at least one image file or directory, or --list FILE');
  const batchSize = integerOption(values.batch, '--batch', 8);
  const decodeThreads = integerOption(values['decode-threads'], '--decode-threads', Math.max(1, Math.min(4, availableParallelism())));
  const maxPixels = values['max-pixels'] === undefined ? undefined : integerOption(values['max-pixels'], '--max-pixels', 1);
  const shard = parseShard(values.shard);
  const engine = engineChoice(values);
  const all = collectInputs(positionals, values.list);
  if (all.length === 0) throw new ConfigError(`no image files (.jpg, .jpeg, .jpe, .jfif or .png, any case) found in ${positionals.join(', ')}`);
  const { start, end } = shardRange(all.length, shard);

  const { net, weightsSha256: sha256 } = await loadModelWithDigest(request, engine);
  const synthetic = request.weightsPath === null;
  if (!values.quiet) for (const line of engineFallbacks(net)) process.stderr.write(`note: ${line}\n`);
  return {
    net, model: request.label, weights: { sha256, synthetic },
    list: { sha256: listDigest(all), count: all.length },
    shard: { ...shard, start, end }, paths: all.slice(start, end),
    batchSize, decodeThreads, maxPixels,
    checkpointSeconds: secondsOption(values['checkpoint-seconds'], '--checkpoint-seconds', 2),
    progressSeconds: secondsOption(values['progress-seconds'], '--progress-seconds', 10),
    quiet: values.quiet ?? false,
  };
}

/**
 * SIGINT and SIGTERM ask the run to stop at the next batch boundary (after which it checkpoints);
 * a second signal ends the process at once, leaving the last checkpoint.
 */
export function stopOnSignals(): { readonly requested: () => string | null; readonly release: () => void } {
  let signal: string | null = null;
  const handler = (name: NodeJS.Signals): void => {
    if (signal !== null) process.exit(name === 'SIGINT' ? 130 : 143);
    signal = name;
    process.stderr.write(`\n${name}: finishing the current batch and writing a checkpoint; send it again to quit at once\n`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    requested: () => signal,
    release: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Exit statuses of the dataset commands (documented in the README). */
export const EXIT = {
  /** Every file became a row. */
  complete: 0,
  /** The run is complete but some files were skipped (see errors.jsonl). */
  skipped: 3,
} as const;

/** SIGINT or SIGTERM: the last checkpoint is written; run the same command again to continue. */
export const interruptedStatus = (signal: string): number => (signal === 'SIGINT' ? 130 : 143);
