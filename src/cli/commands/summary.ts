/**
 * `efficientnet summary`: the network layer by layer, named as in timm, with totals and the
 * planned activation memory.
 */
import { buildNetwork } from '../../arch/network.js';
import { summarizeNetwork } from '../../arch/summary.js';
import { VARIANTS, isVariantName, VARIANT_LIST, variantTitle } from '../../arch/variants.js';
import { planProgramMemory } from '../../plan/memory.js';
import { buildProgram } from '../../plan/program.js';
import { integerOption, parseOptions, requireOption, UsageError } from '../args.js';

export const summaryUsage = 'efficientnet summary --variant V [--resolution R] [--batch N] [--json]';

const shape = (s: readonly number[]): string => s.join('x');
const grouped = (n: number): string => n.toLocaleString('en-US');

export function summaryCommand(argv: string[], out: (line: string) => void): void {
  const { values } = parseOptions(argv, {
    variant: { type: 'string' },
    resolution: { type: 'string' },
    batch: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const variant = requireOption(values.variant, '--variant');
  if (!isVariantName(variant)) throw new UsageError(`unknown variant "${variant}": expected ${VARIANT_LIST}`);
  const resolution = integerOption(values.resolution, '--resolution', VARIANTS[variant].resolution);
  const batch = integerOption(values.batch, '--batch', 1);
  const network = buildNetwork(variant);
  const summary = summarizeNetwork(network, resolution);
  // Padding does not change any buffer size, so either family gives the same plan.
  const activationBytes = planProgramMemory(buildProgram(network, 'same', [batch, 3, resolution, resolution])).bytes;
  const weightBytes = summary.storedFloats * 4;
  if (values.json) {
    out(JSON.stringify({
      variant, resolution, batch, params: summary.params, macs: summary.macs,
      activationBytes, weightBytes,
      layers: summary.layers.map((l) => ({
        name: l.name, op: l.op, kernel: l.kernel, stride: l.stride, input: l.input, output: l.output, params: l.params, macs: l.macs,
      })),
    }, null, 2));
    return;
  }
  const rows = summary.layers.map((l) => [
    l.name, l.op, l.kernel === 1 && l.op !== 'dwconv' ? '' : `${l.kernel}x${l.kernel}`, l.stride === 1 ? '' : String(l.stride),
    shape(l.input), shape(l.output), grouped(l.params), grouped(l.macs),
  ]);
  const header = ['layer', 'op', 'kernel', 'stride', 'input (CxHxW)', 'output', 'params', 'MACs'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (r: string[]): string =>
    r.map((cell, i) => (i >= 6 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  out(format(header));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out(format(r));
  out('');
  out(`${variantTitle(variant)} at ${resolution}x${resolution}, batch ${batch}`);
  out(`  parameters:        ${grouped(summary.params)}`);
  out(`  multiply-adds:     ${grouped(summary.macs)} per image (${(summary.macs / 1e9).toFixed(3)} G)`);
  out(`  weights (float32): ${(weightBytes / 2 ** 20).toFixed(1)} MiB`);
  out(`  activation arena:  ${(activationBytes / 2 ** 20).toFixed(1)} MiB planned peak`);
}
