/**
 * EfficientNet-B0 against the family's other small members, measured side by side: B0, Lite0,
 * V2-B0 at 224 and V2-S at its own 384 (and at 224, to separate architecture from resolution).
 * Each round runs `efficientnet bench` once per model in a fresh process (synthetic weights, one
 * thread, deterministic SIMD, a warm-up, then the median of RUNS forward passes); rounds
 * interleave the models, so a change in the machine's load hits all of them alike. The table
 * gives the median over rounds of each model's time and of its time relative to B0's in the same
 * round, with parameters and multiply-adds from `summarizeNetwork`.
 *
 * Then, in this process, where EfficientNetV2-S's time goes at 224 per kernel family (median over
 * RUNS passes of each family's summed step times): V2's full 3x3 convolutions run on the direct
 * `conv2d` kernel, and their multiply-adds per second set against the GEMM's in the same passes
 * say whether an im2col + GEMM path would pay.
 *
 *   npm run build && tsc -p tsconfig.bench.json && node dist-bench/bench/family.bench.js
 *   (BENCH_ROUNDS, default 5; BENCH_RUNS per process, default 10)
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { buildNetwork } from '../src/arch/network.js';
import { summarizeNetwork } from '../src/arch/summary.js';
import { stepMultiplyAdds } from '../src/plan/cost.js';
import { buildProgram } from '../src/plan/program.js';
import { WasmEngine } from '../src/runtime/wasm-engine.js';
import { foldingRecipe } from '../src/weights/recipe.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { createSyntheticWeights } from '../src/weights/synthetic.js';
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

/** Per kernel family of V2-S at 224: summed step milliseconds per pass, and multiply-adds per pass. */
async function v2KernelFamilies(): Promise<void> {
  const network = buildNetwork('v2_s');
  const engine = await WasmEngine.load(parseSafetensors(createSyntheticWeights({ variant: 'v2_s', seed: 1 })), foldingRecipe(network), 1e-3);
  const program = buildProgram(network, 'same', [1, 3, 224, 224]);
  const input = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i * 0.001)); // [1, 3, 224, 224]
  const familyOf = (kind: string, module: string): string => (kind === 'conv2d' ? (module === 'conv_stem' ? 'stem conv2d' : 'full 3x3 conv2d') : kind);
  const milliseconds = new Map<string, number[]>();
  const multiplyAdds = new Map<string, number>();
  await engine.run(program, input, {}); // warm-up
  for (let run = 0; run < RUNS; run++) {
    const pass = new Map<string, number>();
    await engine.run(program, input, {
      onStep: ({ step, milliseconds: ms }) => {
        const family = familyOf(step.kind, step.module);
        pass.set(family, (pass.get(family) ?? 0) + ms);
        if (run === 0) multiplyAdds.set(family, (multiplyAdds.get(family) ?? 0) + stepMultiplyAdds(step));
      },
    });
    for (const [family, ms] of pass) milliseconds.set(family, [...(milliseconds.get(family) ?? []), ms]);
  }
  engine.dispose();
  console.log(`\nEfficientNetV2-S at 224, 1 thread, per kernel family (median of ${RUNS} passes)\n`);
  console.log('| family | ms | G multiply-adds | G multiply-adds/s |');
  console.log('| --- | --- | --- | --- |');
  for (const [family, times] of milliseconds) {
    const macs = multiplyAdds.get(family) ?? 0;
    if (macs === 0) continue;
    const ms = median(times);
    console.log(`| ${family} | ${ms.toFixed(1)} | ${(macs / 1e9).toFixed(3)} | ${(macs / ms / 1e6).toFixed(2)} |`);
  }
}

await v2KernelFamilies();
