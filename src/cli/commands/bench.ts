/**
 * `efficientnet bench`: end-to-end latency of one model (a `--model` preset or a `--variant`) on
 * synthetic weights (or a given file), reported as the median of repeated runs after a warm-up
 * (single runs on a shared machine vary by 10-20%).
 */
import { findPreset } from '../../arch/presets.js';
import { VARIANTS, variantTitle, type VariantName } from '../../arch/variants.js';
import { summarizeNetwork } from '../../arch/summary.js';
import { integerOption, parseOptions } from '../args.js';
import { median } from '../median.js';
import { loadModel, LOAD_MODEL_OPTIONS, modelRequest } from '../load-model.js';
import { engineChoice, engineFallbacks, ENGINE_OPTIONS } from '../engine-options.js';

export const benchUsage = 'efficientnet bench (--model M | --variant V [--padding same|symmetric] [--bn-eps E]) [--weights FILE] [--resolution R] [--batch N] [--threads T|auto] [--simd deterministic|relaxed] [--runs N] [--json]';

export async function benchCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseOptions(argv, {
    ...LOAD_MODEL_OPTIONS,
    resolution: { type: 'string' },
    batch: { type: 'string' },
    ...ENGINE_OPTIONS,
    runs: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  // Synthetic weights unless a file is given (any format); the time does not depend on the values.
  const request = modelRequest({ ...values, 'random-weights': values.weights === undefined });
  const preset = request.choice.model === undefined ? null : findPreset(request.choice.model);
  const variant: VariantName = preset?.variant ?? (request.choice.variant as VariantName);
  const resolution = integerOption(values.resolution, '--resolution', preset?.inputSize ?? VARIANTS[variant].resolution);
  const batch = integerOption(values.batch, '--batch', 1);
  const runs = integerOption(values.runs, '--runs', 10);
  const engine = engineChoice(values);
  const started = performance.now();
  const net = await loadModel(request, engine);
  const weightsLabel = values.weights === undefined ? 'synthetic weights' : `weights ${values.weights}`;
  const loadMs = performance.now() - started;
  const { threads, reason } = net.threading;
  const simd = net.simd;
  const shape = [batch, 3, resolution, resolution];
  const input = new Float32Array(batch * 3 * resolution * resolution); // [n, 3, r, r]
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.001);
  await net.forward(input, shape); // warm-up: plans memory and lets the engine tier up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await net.forward(input, shape);
    times.push(performance.now() - t0);
  }
  net.dispose();
  const medianMs = median(times);
  const macs = summarizeNetwork(net.network, resolution).macs * batch;
  const report = {
    model: request.label, variant, resolution, batch, threads, ...(reason === undefined ? {} : { threadsReason: reason }),
    simd: simd.mode, ...(simd.reason === undefined ? {} : { simdReason: simd.reason }), runs, medianMs, minMs: Math.min(...times), maxMs: Math.max(...times),
    imagesPerSecond: (batch * 1000) / medianMs, gmacsPerSecond: macs / medianMs / 1e6, loadMs,
  };
  if (values.json) {
    out(JSON.stringify(report));
    return;
  }
  out(`${preset === null ? variantTitle(variant) : request.label} ${resolution}x${resolution} batch ${batch}, ${threads} thread${threads === 1 ? '' : 's'}, ${simd.mode} SIMD, ${weightsLabel}`);
  for (const line of engineFallbacks(net)) out(`  ${line}`);
  out(`  median ${medianMs.toFixed(1)} ms over ${runs} runs (min ${report.minMs.toFixed(1)}, max ${report.maxMs.toFixed(1)})`);
  out(`  ${report.imagesPerSecond.toFixed(1)} images/s, ${report.gmacsPerSecond.toFixed(2)} G multiply-adds/s; load ${loadMs.toFixed(0)} ms`);
}
