/**
 * `efficientnet classify`: photos in, top-k ImageNet classes out, as a table or JSON.
 */
import { fileURLToPath } from 'node:url';
import type { Prediction } from '../../efficientnet.js';
import { ConfigError } from '../../errors.js';
import { readInputFile } from '../files.js';
import { LABELS_OPTION, readLabelsOption } from '../labels-file.js';
import { LOAD_MODEL_OPTIONS, LOAD_MODEL_USAGE, loadModel, modelRequest } from '../load-model.js';
import { integerOption, parseOptions, UsageError } from '../args.js';
import { engineChoice, engineFallbacks, ENGINE_OPTIONS } from '../engine-options.js';
import { ProgressBar } from '../progress.js';
import { classifyJsonlCommand } from '../../dataset/classify-jsonl.js';
import { collectInputs } from '../../dataset/walk.js';

export const classifyUsage =
  `efficientnet classify (IMAGE|DIR... | --example) ${LOAD_MODEL_USAGE} [--test-size] [--labels FILE] [--topk K] [--batch N] ` +
  '[--max-pixels N] [--threads T|auto] [--simd relaxed] [--json | --jsonl FILE|- [--list FILE] [--shard I/N] [--decode-threads D] [--quiet]]';

/** The photos shipped in the package (`data/images/`), for `--example`; the same path from src/ and dist/. */
const EXAMPLE_IMAGES = fileURLToPath(new URL('../../../data/images/', import.meta.url));

const SYNTHETIC_NOTE = 'SYNTHETIC WEIGHTS: these classes are meaningless; pass --weights for real predictions';

export async function classifyCommand(argv: string[], out: (line: string) => void): Promise<void | number> {
  // --jsonl streams through the dataset pipeline (src/dataset/): constant memory, resumable, shardable.
  if (argv.some((a) => a === '--jsonl' || a.startsWith('--jsonl='))) return classifyJsonlCommand(argv, out);
  const { values, positionals } = parseOptions(argv, {
    ...LOAD_MODEL_OPTIONS,
    'test-size': { type: 'boolean', default: false },
    topk: { type: 'string' },
    batch: { type: 'string' },
    'max-pixels': { type: 'string' },
    example: { type: 'boolean', default: false },
    ...LABELS_OPTION,
    ...ENGINE_OPTIONS,
    json: { type: 'boolean', default: false },
  }, true);
  const request = modelRequest(values);
  if (values.example) positionals.push(EXAMPLE_IMAGES);
  if (positionals.length === 0) throw new UsageError('give at least one image file or directory (or --example for the bundled photos)');
  const topk = integerOption(values.topk, '--topk', 5);
  const batchSize = integerOption(values.batch, '--batch', 4);
  const maxPixels = values['max-pixels'] === undefined ? undefined : integerOption(values['max-pixels'], '--max-pixels', 0);
  const engine = engineChoice(values);
  const files = collectInputs(positionals);
  // Read before the model is built; whether there is one label per class, create checks.
  const labels = readLabelsOption(values.labels);
  if (files.length === 0) throw new ConfigError(`no image files (.jpg, .jpeg, .jpe, .jfif, .png) found in ${positionals.join(', ')}`);

  const synthetic = request.weightsPath === null;
  const net = await loadModel(request, { testSize: values['test-size'], labels, ...engine });
  for (const line of engineFallbacks(net)) process.stderr.write(`note: ${line}\n`);
  // A progress bar only when more photos were found than were named.
  const progress = files.length > positionals.length ? new ProgressBar(files.length, 'classifying') : null;
  const results: { file: string; top: Prediction[] }[] = [];
  for (let start = 0; start < files.length; start += batchSize) {
    const batch = files.slice(start, start + batchSize);
    const images = batch.map((file) => readInputFile(file, 'image'));
    let predictions: Prediction[][];
    try {
      predictions = await net.classify(images, { topk, maxPixels });
    } catch (error) {
      // Name the file: a batch error alone would not say which photo is broken.
      for (const [i, image] of images.entries()) {
        try {
          await net.classify(image, { topk: 1, maxPixels });
        } catch (inner) {
          (inner as Error).message = `${batch[i]}: ${(inner as Error).message}`;
          throw inner;
        }
      }
      throw error;
    }
    batch.forEach((file, i) => results.push({ file, top: predictions[i] }));
    progress?.advance(batch.length);
  }
  net.dispose();

  if (values.json) {
    out(JSON.stringify(results.map((r) => ({ ...r, model: request.label, syntheticWeights: synthetic })), null, 2));
    return;
  }
  if (synthetic) out(`!! ${SYNTHETIC_NOTE}`);
  for (const r of results) {
    out(`${r.file}  (${request.label}${synthetic ? ', synthetic weights' : ''})`);
    for (const p of r.top) out(`  ${(100 * p.probability).toFixed(2).padStart(6)}%  ${String(p.index).padStart(4)}  ${p.label}`);
  }
  if (synthetic) out(`!! ${SYNTHETIC_NOTE}`);
}
