/**
 * `efficientnet init-weights`: a deterministic synthetic checkpoint with timm's names and shapes,
 * for trying the tools and running tests where no pretrained weights can be downloaded.
 */
import { isVariantName, VARIANT_LIST, variantTitle } from '../../arch/variants.js';
import { createSyntheticWeights } from '../../weights/synthetic.js';
import { writeOutputFile } from '../files.js';
import { parseOptions, requireOption, UsageError } from '../args.js';

export const initWeightsUsage = 'efficientnet init-weights --variant V --seed S --out FILE';

export function initWeightsCommand(argv: string[], out: (line: string) => void): void {
  const { values } = parseOptions(argv, {
    variant: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  });
  const variant = requireOption(values.variant, '--variant');
  if (!isVariantName(variant)) throw new UsageError(`unknown variant "${variant}": expected ${VARIANT_LIST}`);
  const seedText = requireOption(values.seed, '--seed');
  const seed = Number(seedText);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed must be an integer from 0 to 4294967295, got "${seedText}"`);
  const path = requireOption(values.out, '--out');
  const bytes = createSyntheticWeights({ variant, seed });
  writeOutputFile(path, bytes);
  out(`wrote ${path}: synthetic ${variantTitle(variant)} weights, seed ${seed}, ${(bytes.length / 2 ** 20).toFixed(1)} MiB ` +
    '(not trained: outputs are meaningless, only for trying the tools)');
}
