/**
 * The part every dataset command shares around the pipeline: progress, stopping on SIGINT/SIGTERM
 * at a batch boundary, and the final checkpoint that marks the output complete or partial.
 */
import { DatasetProgress } from './progress.js';
import { runPipeline, type PipelineOptions, type PipelineReport } from './pipeline.js';
import { interruptedStatus, stopOnSignals, type DatasetSetup } from './run-options.js';

/** An output that records how far the list is done and can be saved atomically at any batch boundary. */
export interface CheckpointedOutput {
  readonly processed: number;
  readonly errors: number;
  checkpoint(state?: 'partial' | 'complete'): void;
  close(): void;
}

export interface CheckpointedRun {
  readonly report: PipelineReport;
  /** The exit status a stop request asks for (130 or 143), or null when every list position is done. */
  readonly interruptedStatus: number | null;
}

/**
 * Runs the rest of `setup.paths` (from `output.processed`) into `output`, checkpointing as it goes,
 * then saves and closes the output. `onBatch` writes a batch into the output; progress follows it.
 */
export async function runCheckpointed(
  setup: DatasetSetup,
  output: CheckpointedOutput,
  label: string,
  runBatch: PipelineOptions['runBatch'],
  onBatch: PipelineOptions['onBatch'],
): Promise<CheckpointedRun> {
  const total = setup.paths.length;
  const progress = new DatasetProgress({ total, start: output.processed, label, quiet: setup.quiet, intervalSeconds: setup.progressSeconds });
  const signals = stopOnSignals();
  let report: PipelineReport;
  try {
    report = await runPipeline({
      paths: setup.paths.slice(output.processed),
      batchSize: setup.batchSize,
      decodeThreads: setup.decodeThreads,
      settings: { recipe: setup.net.recipe, maxPixels: setup.maxPixels },
      runBatch,
      onBatch: (...batch) => {
        onBatch(...batch);
        progress.update(output.processed, output.errors);
      },
      checkpoint: () => output.checkpoint(),
      checkpointSeconds: setup.checkpointSeconds,
      shouldStop: () => signals.requested() !== null,
    });
  } finally {
    signals.release();
  }
  const complete = output.processed === total;
  output.checkpoint(complete ? 'complete' : 'partial');
  output.close();
  progress.finish();
  return { report, interruptedStatus: complete ? null : interruptedStatus(signals.requested() ?? 'SIGTERM') };
}
