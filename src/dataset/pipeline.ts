/**
 * The streaming loop of a dataset run: decode workers prepare the next images while the network
 * runs the current batch; each batch's results are handed on in list order; checkpoints are taken
 * every few seconds; a stop request ends the loop at the next batch boundary.
 *
 * Memory is bounded by the look-ahead (tensors waiting or being decoded) and one batch, whatever
 * the number of images.
 */
import { orderedBatches } from '../ordered-batches.js';
import type { DecodeSettings } from './decode-protocol.js';
import { DecodePool } from './decode-pool.js';
import type { SkippedFile } from './output-dir.js';

export interface PipelineOptions {
  /** The paths still to do, in list order. */
  readonly paths: readonly string[];
  readonly batchSize: number;
  readonly decodeThreads: number;
  readonly settings: DecodeSettings;
  /** Runs the network on `[n, 3, size, size]` and returns `[n, width]` per-image rows. */
  readonly runBatch: (input: Float32Array, n: number) => Promise<Float32Array>;
  /**
   * Receives each batch: how many list positions it covers, its rows `[paths.length, width]`, the
   * skipped files, and every position in list order (a row number within the batch, or the skip).
   */
  readonly onBatch: (
    consumed: number, rows: Float32Array, paths: readonly string[], skipped: readonly SkippedFile[], sequence: readonly (number | SkippedFile)[],
  ) => void;
  readonly checkpoint: () => void;
  readonly checkpointSeconds: number;
  readonly shouldStop: () => boolean;
}

export interface PipelineReport {
  /** True when a stop request ended the run before the list did. */
  readonly stopped: boolean;
  readonly images: number;
  readonly skipped: number;
  readonly seconds: number;
  /** Of which the network stood idle waiting for decoded input. */
  readonly waitingSeconds: number;
}

class DecodeFailure extends Error {
  constructor(readonly skipped: { error: string; code: string }) {
    super(skipped.error);
  }
}

export async function runPipeline(options: PipelineOptions): Promise<PipelineReport> {
  const { batchSize, settings } = options;
  const pool = new DecodePool(options.decodeThreads, settings);
  const perImage = 3 * settings.recipe.size * settings.recipe.size;
  // Two batches ahead keeps every worker busy while a batch runs, and bounds what waits in memory.
  const lookahead = 2 * batchSize + 2 * options.decodeThreads;
  const began = performance.now();
  let waiting = 0;
  let images = 0;
  let skippedCount = 0;
  let lastCheckpoint = began;
  let stopped = false;
  // One batch buffer for the whole run: forward copies it into the core's memory, so it is free
  // again when forward returns, and a fresh multi-megabyte buffer per batch only churns the heap.
  const input = new Float32Array(batchSize * perImage); // [batchSize, 3, size, size]
  try {
    const batches = orderedBatches(options.paths, async (path: string) => {
      const outcome = await pool.decode(path);
      if (!outcome.ok) throw new DecodeFailure(outcome);
      return outcome.tensor;
    }, batchSize, lookahead);
    for (;;) {
      const waitStart = performance.now();
      const next = await batches.next();
      waiting += performance.now() - waitStart;
      if (next.done) break;
      const { entries } = next.value;
      const paths: string[] = [];
      const skipped: SkippedFile[] = [];
      const sequence: (number | SkippedFile)[] = [];
      for (const { item, outcome } of entries) {
        if (outcome.ok) {
          input.set(outcome.value, paths.length * perImage);
          pool.recycle(outcome.value);
          sequence.push(paths.length);
          paths.push(item);
        } else if (outcome.error instanceof DecodeFailure) {
          skipped.push({ path: item, ...outcome.error.skipped });
          sequence.push(skipped[skipped.length - 1]);
        } else {
          throw outcome.error;
        }
      }
      const rows = paths.length > 0 ? await options.runBatch(input.subarray(0, paths.length * perImage), paths.length) : new Float32Array(0);
      options.onBatch(entries.length, rows, paths, skipped, sequence);
      images += paths.length;
      skippedCount += skipped.length;
      const now = performance.now();
      if (now - lastCheckpoint >= options.checkpointSeconds * 1000) {
        options.checkpoint();
        lastCheckpoint = now;
      }
      // Let the event loop run between batches: when the next batch is already decoded the loop
      // would otherwise go on in microtasks alone, and a SIGINT or SIGTERM (and the workers'
      // replies) would wait until it next had to wait for input.
      await new Promise((resolve) => setImmediate(resolve));
      if (options.shouldStop()) {
        stopped = true;
        await batches.return(undefined);
        break;
      }
    }
  } finally {
    await pool.close();
  }
  return { stopped, images, skipped: skippedCount, seconds: (performance.now() - began) / 1000, waitingSeconds: waiting / 1000 };
}
