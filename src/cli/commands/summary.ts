/**
 * `efficientnet summary`: the network layer by layer, named as in timm, with totals and the
 * planned activation memory; for a variant of the table, or for the paper's compound rule at a
 * given phi (and optionally other bases alpha, beta, gamma).
 */
import { buildNetwork } from '../../arch/network.js';
import type { LayerSpec } from '../../arch/layers.js';
import { summarizeNetwork } from '../../arch/summary.js';
import { VARIANTS, isVariantName, VARIANT_LIST, variantTitle } from '../../arch/variants.js';
import { planProgramMemory } from '../../plan/memory.js';
import { buildProgram } from '../../plan/program.js';
import { summarizeCompoundScaling } from '../../scaling-summary.js';
import { integerOption, numberOption, parseOptions, UsageError } from '../args.js';

export const summaryUsage =
  'efficientnet summary (--variant V [--resolution R] | --phi P [--alpha A] [--beta B] [--gamma G]) [--batch N] [--json]';

const shape = (s: readonly number[]): string => s.join('x');
const grouped = (n: number): string => n.toLocaleString('en-US');
const mebibytes = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** The per-layer table: one row per timm module, aligned columns, counts right-aligned. */
function printLayerTable(layers: readonly LayerSpec[], out: (line: string) => void): void {
  const rows = layers.map((l) => [
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
}

const layerRecord = (l: LayerSpec) => ({
  name: l.name, op: l.op, kernel: l.kernel, stride: l.stride, input: l.input, output: l.output, params: l.params, macs: l.macs,
});

/** `--phi`: the compound rule's network, its multipliers first, then the same totals as for a variant. */
function compoundSummaryCommand(values: Record<string, string | boolean | undefined>, out: (line: string) => void): void {
  for (const flag of ['variant', 'resolution'] as const) {
    if (values[flag] !== undefined) {
      throw new UsageError(`--${flag} does not go with --phi: the compound rule sets the network and its resolution`);
    }
  }
  const option = (name: string): number | undefined => numberOption(values[name] as string | undefined, `--${name}`);
  const summary = summarizeCompoundScaling({
    phi: option('phi')!, // present: this path runs only with --phi
    alpha: option('alpha'), beta: option('beta'), gamma: option('gamma'),
    batch: integerOption(values.batch as string | undefined, '--batch', 1),
  });
  const { phi, alpha, beta, gamma, costFactor, depth, width, resolution, batch } = summary;
  if (values.json) {
    out(JSON.stringify({
      phi, alpha, beta, gamma, costFactor, width, depth, resolution, batch,
      blocks: summary.blocks, stemChannels: summary.stemChannels, headChannels: summary.headChannels,
      params: summary.params, macs: summary.macs, activationBytes: summary.activationBytes, weightBytes: summary.weightBytes,
      layers: summary.layers.map(layerRecord),
    }, null, 2));
    return;
  }
  printLayerTable(summary.layers, out);
  out('');
  out(`Compound scaling at phi ${phi} (alpha ${alpha}, beta ${beta}, gamma ${gamma}; alpha*beta^2*gamma^2 = ${costFactor.toFixed(4)}), ` +
    `batch ${batch}`);
  out(`  depth multiplier:  ${depth.toFixed(4)} (alpha^phi; repeats rounded up per stage: ${summary.blocks} blocks)`);
  out(`  width multiplier:  ${width.toFixed(4)} (beta^phi; channels rounded to multiples of 8: stem ${summary.stemChannels}, ` +
    `head ${summary.headChannels})`);
  out(`  resolution:        ${resolution}x${resolution} (224 * gamma^phi, rounded)`);
  out(`  parameters:        ${grouped(summary.params)}`);
  out(`  multiply-adds:     ${grouped(summary.macs)} per image (${(summary.macs / 1e9).toFixed(3)} G)`);
  out(`  weights (float32): ${mebibytes(summary.weightBytes)}`);
  out(`  activation arena:  ${mebibytes(summary.activationBytes)} planned peak`);
}

export function summaryCommand(argv: string[], out: (line: string) => void): void {
  const { values } = parseOptions(argv, {
    variant: { type: 'string' },
    resolution: { type: 'string' },
    phi: { type: 'string' },
    alpha: { type: 'string' },
    beta: { type: 'string' },
    gamma: { type: 'string' },
    batch: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (values.phi !== undefined) {
    compoundSummaryCommand(values, out);
    return;
  }
  for (const flag of ['alpha', 'beta', 'gamma'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} is a base of the compound rule: give --phi with it`);
  }
  const variant = values.variant;
  if (variant === undefined) throw new UsageError('missing required option --variant (or --phi for the compound rule)');
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
      layers: summary.layers.map(layerRecord),
    }, null, 2));
    return;
  }
  printLayerTable(summary.layers, out);
  out('');
  out(`${variantTitle(variant)} at ${resolution}x${resolution}, batch ${batch}`);
  out(`  parameters:        ${grouped(summary.params)}`);
  out(`  multiply-adds:     ${grouped(summary.macs)} per image (${(summary.macs / 1e9).toFixed(3)} G)`);
  out(`  weights (float32): ${mebibytes(weightBytes)}`);
  out(`  activation arena:  ${mebibytes(activationBytes)} planned peak`);
}
