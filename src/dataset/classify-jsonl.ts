/**
 * `efficientnet classify ... --jsonl FILE|-`: the dataset pipeline with top-k classes instead of
 * embeddings, one JSON line per input in list order (`{"path","top"}` or `{"path","error","code"}`),
 * written as batches finish, in constant memory, with the embed command's resume and shard rules.
 */
import { topPredictions } from '../efficientnet.js';
import { integerOption, parseOptions } from '../cli/args.js';
import { LABELS_OPTION, readLabelsOption } from '../cli/labels-file.js';
import { resolveLabels } from '../labels.js';
import { JsonlOutput } from './jsonl-output.js';
import { runCheckpointed } from './checkpointed-run.js';
import { DATASET_OPTIONS, EXIT, setUpDataset } from './run-options.js';

export async function classifyJsonlCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    ...DATASET_OPTIONS,
    jsonl: { type: 'string' },
    topk: { type: 'string' },
    ...LABELS_OPTION,
  }, true);
  const target = values.jsonl!;
  const topk = integerOption(values.topk, '--topk', 5);
  const givenLabels = readLabelsOption(values.labels);
  const setup = await setUpDataset(values, positionals);
  const { net } = setup;
  // Status lines go to stderr when the results stream to stdout.
  const say = target === '-' ? (line: string) => process.stderr.write(`${line}\n`) : out;
  try {
    // The same one-label-per-class check as EfficientNet.create's, before any output is touched.
    const labels = resolveLabels(givenLabels, net.numClasses);
    // Given labels are part of what the lines say, so resuming with other labels is refused.
    const output = JsonlOutput.open(target, {
      model: setup.model, weights: setup.weights, preprocessing: net.recipe, topk, list: setup.list, ...(givenLabels ? { labels } : {}),
    }, setup.shard);
    if (output.state === 'complete') {
      say(`${target} is already complete: ${output.processed} lines, ${output.errors} skipped; nothing to do`);
      output.close();
      return output.errors > 0 ? EXIT.skipped : EXIT.complete;
    }
    const total = setup.paths.length;
    const classes = net.numClasses;
    const size = net.recipe.size;
    const k = Math.min(topk, classes);
    const { interruptedStatus } = await runCheckpointed(
      setup, output, 'classifying',
      async (input, n) => (await net.forward(input, [n, 3, size, size], { probabilities: true })).probabilities!,
      (_consumed, rows, paths, skipped, sequence) => {
        // Lines in list order: the skipped files between the classified ones keep their places.
        const lines = sequence.map((entry) => {
          if (typeof entry !== 'number') return JSON.stringify({ path: entry.path, error: entry.error, code: entry.code });
          const top = topPredictions(rows.subarray(entry * classes, (entry + 1) * classes), k, setup.weights.synthetic, labels);
          return JSON.stringify({ path: paths[entry], top: top.map((p) => ({ index: p.index, label: p.label, probability: p.probability })) });
        });
        output.append(lines, skipped.length);
      },
    );
    if (interruptedStatus !== null) {
      say(`stopped at ${output.processed}/${total} with a checkpoint; run the same command to continue`);
      return interruptedStatus;
    }
    if (target !== '-') say(`wrote ${target}: ${total} lines, ${output.errors} skipped`);
    return output.errors > 0 ? EXIT.skipped : EXIT.complete;
  } finally {
    net.dispose();
  }
}

