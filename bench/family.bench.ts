/**
 * EfficientNet-B0 against the family's other small members, measured side by side: B0, Lite0,
 * V2-B0 at 224 and V2-S at its own 384 (and at 224, to separate architecture from resolution).
 * Each round runs `efficientnet bench` once per model in a fresh process (synthetic weights, one
 * thread, deterministic SIMD, a warm-up, then the median of RUNS forward passes); rounds
 * interleave the models, so a change in the machine's load hits all of them alike. The table
 * gives the median over rounds of each model's time and of its time relative to B0's in the same
 * round, with parameters and multiply-adds from `summarizeNetwork`.
 *
 *   npm run build && tsc -p tsconfig.bench.json && node dist-bench/bench/family.bench.js
 *   (BENCH_ROUNDS, default 5; BENCH_RUNS per process, default 10)
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { buildNetwork } from '../src/arch/network.js';
import { summarizeNetwork } from '../src/arch/summary.js';
import { variantTitle, type VariantName } from '../src/arch/variants.js';
import { machineLine, median } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
/** The built command line; run from the repository root. */
const CLI = resolve('dist/cli/main.js');

const MODELS: readonly { variant: VariantName; resolution: number }[] = [
  { variant: 'b0', resolution: 224 },
  { variant: 'lite0', resolution: 224 },
  { variant: 'v2_b0', resolution: 224 },
  { variant: 'v2_s', resolution: 224 },
  { variant: 'v2_s', resolution: 384 },
];

function benchOnce(variant: VariantName, resolution: number): number {
  const output = execFileSync(process.execPath, [CLI, 'bench', '--variant', variant, '--resolution', String(resolution),
    '--runs', String(RUNS), '--threads', '1', '--json'], { encoding: 'utf8' });
  return (JSON.parse(output.trim().split('\n').at(-1)!) as { medianMs: number }).medianMs;
}

console.log(machineLine());
const times = MODELS.map(() => [] as number[]);
const ratios = MODELS.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  const roundTimes = MODELS.map(({ variant, resolution }) => benchOnce(variant, resolution));
  roundTimes.forEach((ms, i) => {
    times[i].push(ms);
    ratios[i].push(ms / roundTimes[0]);
  });
  console.log(`round ${round + 1}: ${roundTimes.map((ms) => ms.toFixed(1)).join(' ')} ms`);
}
console.log(`\n${ROUNDS} interleaved rounds, ${RUNS} runs each, 1 thread, deterministic SIMD\n`);
console.log('| model | input | parameters | multiply-adds | median ms | time vs B0 |');
console.log('| --- | --- | --- | --- | --- | --- |');
MODELS.forEach(({ variant, resolution }, i) => {
  const summary = summarizeNetwork(buildNetwork(variant), resolution);
  console.log(`| ${variantTitle(variant)} | ${resolution} | ${(summary.params / 1e6).toFixed(2)} M | ${(summary.macs / 1e9).toFixed(2)} G | ` +
    `${median(times[i]).toFixed(1)} | ${median(ratios[i]).toFixed(2)}x |`);
});
