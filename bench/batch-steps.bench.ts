/**
 * Where batch 8 gains and loses against batch 1 on one thread, and how much of a batch-8 pass
 * its work units leave to a single thread.
 *
 * B0 at 224 on synthetic weights, one thread. First whole passes: PASS_ROUNDS rounds, each running
 * in alternating order eight images one at a time (batch 1), the eight as one batch run by its
 * schedule (`plan/schedule.ts`, how runs without hooks go), and the batch run step by step (an
 * empty `onStep` hook: every step batch-wide, as before the schedule). Medians per image, and the
 * median over rounds of each batch's images/s over batch 1's in the same round.
 *
 * Then per step: ROUNDS rounds alternate batch 1 and batch 8, timing every step (`onStep`) over
 * RUNS passes. Per kind of step and output resolution it prints the median milliseconds per image
 * at batch 1 and at batch 8, and their ratio (below 1: batch 8 is cheaper per image). Then, from
 * the batch-8 step times and the number of work units each step has (`prepareProgram`), the time
 * in steps of a single unit (which no second thread can share) and the best two threads could do
 * step by step if every unit of a step took the same time, and the schedule's phases on two threads.
 *
 *   tsc -p tsconfig.bench.json && node dist-bench/bench/batch-steps.bench.js
 *   (BENCH_PASS_ROUNDS, default 15; BENCH_ROUNDS, default 3; BENCH_RUNS, default 5)
 */
import { buildNetwork } from '../src/arch/network.js';
import { planProgramMemory } from '../src/plan/memory.js';
import { buildProgram, type Program } from '../src/plan/program.js';
import { loadKernels } from '../src/runtime/kernels.js';
import { layoutWeights } from '../src/runtime/packed-weights.js';
import { WasmEngine } from '../src/runtime/wasm-engine.js';
import { prepareProgram, type ExecutorKernels } from '../src/runtime/wasm-executor.js';
import { foldingRecipe } from '../src/weights/recipe.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { createSyntheticWeights } from '../src/weights/synthetic.js';
import { machineLine, median } from './support.js';
import { loadavg } from 'node:os';
import { schedulePhases } from '../src/plan/schedule.js';

const PASS_ROUNDS = Number(process.env.BENCH_PASS_ROUNDS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BATCHES = [1, 8] as const;

const network = buildNetwork('b0');
const recipe = foldingRecipe(network);
const engine = await WasmEngine.load(parseSafetensors(createSyntheticWeights({ variant: 'b0', seed: 1 })), recipe, 1e-3);
const programs = new Map<number, Program>(BATCHES.map((n) => [n, buildProgram(network, 'same', [n, 3, 224, 224])]));
const inputs = new Map<number, Float32Array>(BATCHES.map((n) => {
  const input = new Float32Array(n * 3 * 224 * 224); // [n, 3, 224, 224]
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.01);
  return [n, input];
}));
/** Per batch, per step, its times over all rounds. */
const stepTimes = new Map<number, number[][]>(BATCHES.map((n) => [n, programs.get(n)!.steps.map(() => [])]));

for (const n of BATCHES) for (let warm = 0; warm < 2; warm++) await engine.run(programs.get(n)!, inputs.get(n)!, {});

// Whole passes: eight single images, the batch by its schedule, the batch step by step.
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();
const images = Array.from({ length: 8 }, (_, i) => inputs.get(8)!.subarray(i * 3 * 224 * 224, (i + 1) * 3 * 224 * 224));
const contenders: Record<string, () => Promise<unknown>> = {
  'batch 1': async () => {
    for (const image of images) await engine.run(programs.get(1)!, image, {});
  },
  'batch 8, scheduled': async () => engine.run(programs.get(8)!, inputs.get(8)!, {}),
  'batch 8, step by step': async () => engine.run(programs.get(8)!, inputs.get(8)!, { onStep: () => undefined }),
};
const passMs = new Map<string, number[]>(Object.keys(contenders).map((name) => [name, []]));
const roundRatios = new Map<string, number[]>(Object.keys(contenders).map((name) => [name, []]));
for (let round = 0; round < PASS_ROUNDS; round++) {
  const names = Object.keys(contenders);
  const times = new Map<string, number>();
  for (const name of round % 2 === 0 ? names : names.reverse()) {
    const start = performance.now();
    await contenders[name]();
    times.set(name, (performance.now() - start) / 8);
  }
  for (const [name, ms] of times) {
    passMs.get(name)!.push(ms);
    roundRatios.get(name)!.push(times.get('batch 1')! / ms);
  }
}
console.log(machineLine());
console.log(`load average (1, 5, 15 min) before: ${loadBefore}; after: ${load()}`);
console.log(`\nB0 224, 1 thread, ${PASS_ROUNDS} rounds, contenders alternating; per image:`);
for (const [name, times] of passMs) {
  console.log(`  ${name}: ${median(times).toFixed(2)} ms, ${(1000 / median(times)).toFixed(1)} images/s; ` +
    `images/s over batch 1's in the same round, median ${median(roundRatios.get(name)!).toFixed(2)}x`);
}
for (let round = 0; round < ROUNDS; round++) {
  for (const n of round % 2 === 0 ? BATCHES : [...BATCHES].reverse()) {
    const program = programs.get(n)!;
    for (let run = 0; run < RUNS; run++) {
      let index = 0;
      await engine.run(program, inputs.get(n)!, { onStep: ({ milliseconds }) => stepTimes.get(n)![index++].push(milliseconds) });
    }
  }
}
engine.dispose();

/** `kind@side` of a step: its kind and the side of the map it writes (1 for vectors and weights). */
const groupOf = (program: Program, index: number): string => {
  const step = program.steps[index];
  const { shape, layout } = program.buffers.get(step.writes[0])!;
  return `${step.kind}@${layout === 'nhwc' ? shape[1] : 1}`;
};
const perImage = new Map<number, Map<string, number>>(BATCHES.map((n) => {
  const program = programs.get(n)!;
  const groups = new Map<string, number>();
  stepTimes.get(n)!.forEach((times, index) => {
    const group = groupOf(program, index);
    groups.set(group, (groups.get(group) ?? 0) + median(times) / n);
  });
  return [n, groups];
}));

// Multiply-adds per image of each group's GEMMs: their rate shows whether a GEMM runs at the
// kernel's own pace (where more rows per call cannot help) or waits on its weights.
const gemmMacs = new Map<string, number>();
programs.get(1)!.steps.forEach((step, index) => {
  if (step.kind !== 'pointwise') return;
  const group = groupOf(programs.get(1)!, index);
  gemmMacs.set(group, (gemmMacs.get(group) ?? 0) + step.rows * step.inChannels * step.outChannels);
});
const rate = (group: string, ms: number): string => (gemmMacs.has(group) ? `${(gemmMacs.get(group)! / ms / 1e6).toFixed(1)}` : '');

console.log(`\nB0 224, 1 thread, step by step (hooks on), ${ROUNDS} rounds x ${RUNS} passes, per image:\n`);
console.log('| step kind @ output side | batch 1, ms | batch 8, ms per image | ratio | GEMM G multiply-adds/s, batch 1 | batch 8 |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [group, single] of perImage.get(1)!) {
  const batched = perImage.get(8)!.get(group)!;
  if (single < 0.05 && batched < 0.05) continue;
  console.log(`| ${group} | ${single.toFixed(2)} | ${batched.toFixed(2)} | ${(batched / single).toFixed(2)} | ${rate(group, single)} | ${rate(group, batched)} |`);
}

// Work units per step of the batch-8 program, from a plan on an instance of its own (the engine
// keeps its prepared programs private).
const kernels = (await loadKernels()) as ExecutorKernels;
const batch8 = programs.get(8)!;
const units = prepareProgram(kernels, batch8, planProgramMemory(batch8), layoutWeights(kernels, recipe, kernels.heap_base()), 0)
  .plan.map((calls) => calls.length);
let total = 0;
let single = 0;
let twoThreadBound = 0;
const singleKinds = new Map<string, number>();
stepTimes.get(8)!.forEach((times, index) => {
  const ms = median(times);
  total += ms;
  twoThreadBound += (ms * Math.ceil(units[index] / 2)) / units[index];
  if (units[index] === 1) {
    single += ms;
    const kind = batch8.steps[index].kind;
    singleKinds.set(kind, (singleKinds.get(kind) ?? 0) + ms);
  }
});
console.log(`\nbatch 8: steps sum to ${total.toFixed(1)} ms; steps of a single work unit ${single.toFixed(2)} ms ` +
  `(${[...singleKinds].map(([kind, ms]) => `${kind} ${ms.toFixed(2)}`).join(', ')})`);
console.log(`two threads step by step, if every unit of a step took the same time: ${twoThreadBound.toFixed(1)} ms, ${(total / twoThreadBound).toFixed(2)}x one thread`);
const phases = schedulePhases(batch8, 2);
const imageByImage = phases.filter((phase) => phase.kind === 'per-image').length;
console.log(`scheduled on two threads: ${phases.length} phases (barriers) instead of ${batch8.steps.length} steps; ${imageByImage} image by image ` +
  `(8 units each), ${phases.length - imageByImage} batch-wide (GEMMs of at least ${Math.min(...phases.flatMap((phase) => (phase.kind === 'batch' ? [units[phase.step]] : [])))} units, the classifier cut in two)`);
