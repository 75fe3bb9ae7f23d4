/**
 * Where batch 8 gains and loses against batch 1 on one thread, and how much of a batch-8 pass
 * its work units leave to a single thread.
 *
 * B0 at 224 on synthetic weights, one thread; ROUNDS rounds alternate batch 1 and batch 8, each
 * timing every step (`onStep`) over RUNS passes after two warm-ups. Per kind of step and output
 * resolution it prints the median milliseconds per image at batch 1 and at batch 8, and their
 * ratio (below 1: batch 8 is cheaper per image). Then, from the batch-8 step times and the number
 * of work units each step has (`prepareProgram`), the time in steps of a single unit (which no
 * second thread can share) and the best two threads could do if every unit of a step took the
 * same time: the bound the work split sets, to set beside the machine's own two-core ceiling
 * (`bench/threads.bench.ts`).
 *
 *   tsc -p tsconfig.bench.json && node dist-bench/bench/batch-steps.bench.js   (BENCH_ROUNDS, default 3; BENCH_RUNS, default 5)
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
const passTimes = new Map<number, number[]>(BATCHES.map((n) => [n, []]));

for (const n of BATCHES) for (let warm = 0; warm < 2; warm++) await engine.run(programs.get(n)!, inputs.get(n)!, {});
for (let round = 0; round < ROUNDS; round++) {
  for (const n of round % 2 === 0 ? BATCHES : [...BATCHES].reverse()) {
    const program = programs.get(n)!;
    for (let run = 0; run < RUNS; run++) {
      const start = performance.now();
      await engine.run(program, inputs.get(n)!, {});
      passTimes.get(n)!.push(performance.now() - start);
      let index = 0;
      await engine.run(program, inputs.get(n)!, { onStep: ({ milliseconds }) => stepTimes.get(n)![index++].push(milliseconds) });
    }
  }
}
engine.dispose();

/** `kind@side` of a step: its kind and the side of the map it writes (1 for vectors). */
const groupOf = (program: Program, index: number): string => {
  const step = program.steps[index];
  const shape = program.buffers.get(step.writes[0])!.shape;
  return `${step.kind}@${shape.length === 4 ? shape[1] : 1}`;
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

console.log(machineLine());
console.log(`\nB0 224, 1 thread, ${ROUNDS} rounds x ${RUNS} passes; whole passes without hooks, per image:`);
for (const n of BATCHES) {
  const ms = median(passTimes.get(n)!) / n;
  console.log(`  batch ${n}: ${ms.toFixed(2)} ms per image, ${(1000 / ms).toFixed(1)} images/s`);
}
console.log(`  batch 8 / batch 1 images/s: ${(median(passTimes.get(1)!) / (median(passTimes.get(8)!) / 8)).toFixed(2)}x\n`);
console.log('| step kind @ output side | batch 1, ms | batch 8, ms per image | ratio |');
console.log('| --- | --- | --- | --- |');
for (const [group, single] of perImage.get(1)!) {
  const batched = perImage.get(8)!.get(group)!;
  if (single < 0.05 && batched < 0.05) continue;
  console.log(`| ${group} | ${single.toFixed(2)} | ${batched.toFixed(2)} | ${(batched / single).toFixed(2)} |`);
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
console.log(`two threads, if every unit of a step took the same time: ${twoThreadBound.toFixed(1)} ms, ${(total / twoThreadBound).toFixed(2)}x one thread`);
