/**
 * `efficientnet embed`: a folder tree or list of photos to one embedding matrix with a row index,
 * streamed, resumable and shardable (src/dataset/ does the work).
 */
import { parseOptions, requireOption, UsageError } from '../args.js';
import { LOAD_MODEL_USAGE } from '../load-model.js';
import { layerDim, layerName, parseLayer, createRowEmbedder } from '../../dataset/layer.js';
import { EmbeddingDirectory } from '../../dataset/output-dir.js';
import { runCheckpointed } from '../../dataset/checkpointed-run.js';
import { DATASET_OPTIONS, DATASET_USAGE, EXIT, setUpDataset } from '../../dataset/run-options.js';
import type { RowDtype } from '../../dataset/npy-rows.js';

export const embedUsage =
  `efficientnet embed PATH... ${LOAD_MODEL_USAGE} --out DIR [--layer pooled|stage-K] ` +
  `[--dtype f32|f16] ${DATASET_USAGE}`;

export async function embedCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    ...DATASET_OPTIONS,
    out: { type: 'string' },
    layer: { type: 'string' },
    dtype: { type: 'string' },
  }, true);
  const dir = requireOption(values.out, '--out');
  const dtype = (values.dtype ?? 'f32') as RowDtype;
  if (dtype !== 'f32' && dtype !== 'f16') throw new UsageError(`--dtype must be f32 or f16, got "${values.dtype}"`);
  const setup = await setUpDataset(values, positionals);
  const { net } = setup;
  try {
    const layer = parseLayer(values.layer, net.network);
    const output = EmbeddingDirectory.open(dir, {
      model: setup.model, weights: setup.weights, preprocessing: net.recipe,
      layer: layerName(layer), dim: layerDim(layer, net), dtype, list: setup.list,
    }, setup.shard);
    const shardNote = setup.shard.count > 1 ? ` (shard ${setup.shard.index}/${setup.shard.count})` : '';
    if (output.state === 'complete') {
      output.close();
      out(`${dir} is already complete${shardNote}: ${output.rows} rows, ${output.errors} skipped; nothing to do`);
      return output.errors > 0 ? EXIT.skipped : EXIT.complete;
    }
    const total = setup.paths.length;
    if (output.state === 'resumed' && !setup.quiet) process.stderr.write(`resuming ${dir} at ${output.processed}/${total}\n`);
    const { report, interruptedStatus } = await runCheckpointed(
      setup, output, 'embedding', await createRowEmbedder(net, layer),
      (consumed, rows, paths, skipped) => output.append(consumed, rows, paths, skipped),
    );
    const rate = report.seconds > 0 ? report.images / report.seconds : 0;
    const timing = `${report.images} images in ${report.seconds.toFixed(1)} s (${rate.toFixed(1)} images/s); ` +
      `the network waited for input ${(100 * report.waitingSeconds / Math.max(report.seconds, 1e-9)).toFixed(1)}% of the time`;
    if (interruptedStatus !== null) {
      out(`stopped${shardNote} at ${output.processed}/${total} with a checkpoint; run the same command to continue. ${timing}`);
      return interruptedStatus;
    }
    out(`wrote ${dir}${shardNote}: ${output.rows} rows of ${layerDim(layer, net)} (${layerName(layer)}, ${dtype}), ${output.errors} skipped. ${timing}`);
    return output.errors > 0 ? EXIT.skipped : EXIT.complete;
  } finally {
    net.dispose();
  }
}
