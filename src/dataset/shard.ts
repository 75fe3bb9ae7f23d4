/**
 * `--shard I/N`: shard I of N takes a contiguous slice of the global sorted list, so the shards'
 * outputs concatenated in shard order are the single run's output, row for row.
 */
import { ConfigError } from '../errors.js';

export interface Shard {
  /** 0-based, below `count`. */
  readonly index: number;
  readonly count: number;
}

export const WHOLE_LIST: Shard = { index: 0, count: 1 };

export function parseShard(text: string | undefined): Shard {
  if (text === undefined) return WHOLE_LIST;
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new ConfigError(`--shard must be I/N with 0 <= I < N (e.g. 0/3), got "${text}"`);
  }
  return { index, count };
}

/** The list positions [start, end) of a shard: sizes differ by at most one. */
export function shardRange(total: number, shard: Shard): { start: number; end: number } {
  return {
    start: Math.floor((shard.index * total) / shard.count),
    end: Math.floor(((shard.index + 1) * total) / shard.count),
  };
}
