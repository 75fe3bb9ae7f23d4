/**
 * The opt-in relaxed-SIMD build against the default deterministic one: EfficientNet-B0 at 224,
 * batch 1, on one and two threads, interleaved in one process, after checking the logits agree.
 * Needs relaxed SIMD on: on Node 20 it restarts itself with --experimental-wasm-relaxed-simd.
 *
 *   npm run bench     (or, after it, node dist-bench/bench/relaxed.bench.js)
 */
import { EfficientNet } from '../src/efficientnet.js';
import { ensureRelaxedSimd } from './relaxed-flag.js';
import { b0Workload, interleave, machineLine } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5);

ensureRelaxedSimd();

const { bytes, shape, input } = b0Workload();
const models = {
  deterministic1: await EfficientNet.create({ variant: 'b0', weights: bytes }),
  relaxed1: await EfficientNet.create({ variant: 'b0', weights: bytes, simd: 'relaxed' }),
  deterministic2: await EfficientNet.create({ variant: 'b0', weights: bytes, threads: 2 }),
  relaxed2: await EfficientNet.create({ variant: 'b0', weights: bytes, simd: 'relaxed', threads: 2 }),
};
for (const [name, net] of Object.entries(models)) {
  if (net.simd.reason !== undefined || net.threading.reason !== undefined) {
    throw new Error(`${name} does not run as intended: ${net.simd.reason ?? net.threading.reason}`);
  }
}

const exact = (await models.deterministic1.forward(input, shape)).logits;
const fused = (await models.relaxed1.forward(input, shape)).logits;
const scale = exact.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const worst = exact.reduce((m, v, i) => Math.max(m, Math.abs(v - fused[i])), 0);
console.log(`logits: max |relaxed - deterministic| = ${worst.toExponential(2)} (${(worst / scale).toExponential(2)} of the largest logit)`);

const results = await interleave(
  Object.entries(models).map(([name, net]) => ({ name, run: () => net.forward(input, shape) })),
  ROUNDS, ITERATIONS,
);
const median = (name: string): number => results.find((r) => r.name === name)!.medianMs;
console.log(`EfficientNet-B0 224x224, batch 1, deterministic vs relaxed SIMD; ${machineLine()}`);
for (const threads of [1, 2]) {
  const d = median(`deterministic${threads}`);
  const r = median(`relaxed${threads}`);
  console.log(`  ${threads} thread${threads === 1 ? ' ' : 's'}: deterministic ${d.toFixed(1)} ms, relaxed ${r.toFixed(1)} ms, ratio ${(r / d).toFixed(2)}`);
}
for (const net of Object.values(models)) net.dispose();
