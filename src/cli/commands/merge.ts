/**
 * `efficientnet merge`: the shard directories of `embed --shard I/N` into one directory, byte for
 * byte what `embed` without `--shard` writes.
 */
import { mergeShards } from '../../dataset/merge.js';
import { EXIT } from '../../dataset/run-options.js';
import { parseOptions, requireOption, UsageError } from '../args.js';

export const mergeUsage = 'efficientnet merge DIR... --out DIR';

export async function mergeCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseOptions(argv, { out: { type: 'string' } }, true);
  const outDir = requireOption(values.out, '--out');
  if (positionals.length === 0) throw new UsageError('give the shard directories to merge');
  const began = performance.now();
  const report = await mergeShards(positionals, outDir);
  const seconds = (performance.now() - began) / 1000;
  out(`merged ${positionals.length} shards into ${outDir}: ${report.rows} rows, ${report.errors} skipped, ${report.bytes} bytes in ${seconds.toFixed(2)} s`);
  return report.errors > 0 ? EXIT.skipped : EXIT.complete;
}
