/**
 * Where EfficientNet-B0's time goes, per kernel family, at 224 on one thread: the time of every
 * call of the real network summed per family, its G multiply-adds/s, and its share of the
 * machine's SIMD ceiling, measured by a register-bound loop (simd_peak_probe: independent f32x4
 * products added into six accumulators, the GEMM's mix of instructions) right before each run. A shared machine's speed changes from second
 * to second, so each run is set against the ceiling measured next to it, and the table shows
 * medians over runs of the times and of those shares.
 *
 * It also runs the program with each SE gate applied to the map (a channel-scale pass before the
 * projection) where the real one scales the projection's weights per image instead, alternating
 * with the real one, and reports the time both spend applying the gates (the projection GEMMs are
 * the same work in both).
 *
 * It also runs the same program with the expand/head GEMMs' swish epilogue switched off,
 * alternating with the real one: those GEMM steps then do exactly the real multiply-adds on the
 * same buffers, so their time is the GEMM's own, measured in place, and the difference is the
 * swish pass.
 *
 *   npm run bench     (both builds; by hand, after it: node dist-bench/bench/kernels.bench.js [--relaxed])
 *
 * With --relaxed it measures the relaxed-SIMD build (fused multiply-add in the GEMM and stem)
 * against that build's own ceiling, an FMA-only register loop (on Node 20 it restarts itself
 * with --experimental-wasm-relaxed-simd).
 */
import { buildNetwork } from '../src/arch/network.js';
import { DEFAULT_BN_EPS } from '../src/arch/padding.js';
import { stepMultiplyAdds } from '../src/plan/cost.js';
import { buildProgram, type Program, type Step } from '../src/plan/program.js';
import { peakProbeMultiplyAdds, type GemmExports } from '../src/runtime/kernels/gemm.js';
import { WasmEngine } from '../src/runtime/wasm-engine.js';
import { instantiateCore, relaxedWasmUrl } from '../src/runtime/wasm.js';
import { foldingRecipe } from '../src/weights/recipe.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { ensureRelaxedSimd } from './relaxed-flag.js';
import { b0Workload, machineLine, median } from './support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const PROBE_ITERATIONS = 1_000_000;

const relaxed = process.argv.includes('--relaxed');
if (relaxed) ensureRelaxedSimd();

const probeCore = (await instantiateCore(relaxed ? relaxedWasmUrl() : undefined)) as unknown as GemmExports;
/** The ceiling right now, in G multiply-adds/s: the best of three short probe runs. */
function ceilingNow(): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    probeCore.simd_peak_probe(PROBE_ITERATIONS);
    best = Math.min(best, performance.now() - start);
  }
  return (PROBE_ITERATIONS * peakProbeMultiplyAdds(probeCore)) / best / 1e6;
}

const { bytes, shape, input } = b0Workload();
const network = buildNetwork('b0');
const engine = await WasmEngine.load(parseSafetensors(bytes), foldingRecipe(network), DEFAULT_BN_EPS.same, {
  simd: relaxed ? 'relaxed' : 'deterministic',
});
if (engine.simd.reason !== undefined) throw new Error(`not the build asked for: ${engine.simd.reason}`);
const program = buildProgram(network, 'same', shape);
// Its values differ downstream of the first switched-off step, so nothing but the GEMM steps'
// times is read from it.
const withoutSwishPass: Program = {
  ...program,
  steps: program.steps.map((step) => (step.kind === 'pointwise' && step.activation === 'swish' ? { ...step, activation: 'none' } : step)),
};

/** `p` with every `gate-weights` step replaced by a channel-scale pass over the map its projection reads. */
function gatesOnMaps(p: Program): Program {
  const projectionOf = (gated: string) => p.steps.find((s) => s.kind === 'pointwise' && s.gatedWeights === gated)!;
  const steps = p.steps.map((step): Step => {
    if (step.kind === 'gate-weights') {
      const projection = projectionOf(step.writes[0]);
      if (projection.kind !== 'pointwise') throw new Error('unreachable');
      const map = projection.reads[0];
      return { kind: 'channel-scale', module: step.module, reads: [map, step.reads[0]], writes: [map], n: step.n,
        spatial: projection.rows / step.n, channels: step.inChannels };
    }
    if (step.kind === 'pointwise' && step.gatedWeights !== null) {
      return { ...step, reads: step.reads.filter((id) => id !== step.gatedWeights), gatedWeights: null };
    }
    return step;
  });
  return { ...p, steps, buffers: new Map([...p.buffers].filter(([, b]) => b.layout !== 'panels')) };
}
const withGatesOnMaps = gatesOnMaps(program);
const isGating = (step: Step): boolean => step.kind === 'gate-weights' || step.kind === 'channel-scale';
const GATES_ON_WEIGHTS = 'SE gates applied, as planned';
const GATES_ON_MAPS = 'SE gates applied, all on the maps';

const family = (step: Step): string => {
  if (step.kind !== 'pointwise') return step.kind;
  if (step.module === 'classifier') return 'classifier (gemm)';
  return step.activation === 'swish' ? 'pointwise expand/head (gemm+swish)' : 'pointwise project (gemm+residual)';
};
const isLayerGemm = (step: Step): boolean => step.kind === 'pointwise' && step.module !== 'classifier';
const GEMM_ONLY = 'pointwise GEMM, all 1x1 layers';
const SWISH_PASS = 'their swish pass (the difference)';

/** Milliseconds per step of one run of `p`, in step order. */
async function stepTimes(p: Program): Promise<number[]> {
  const times: number[] = [];
  await engine.run(p, input, { onStep: ({ milliseconds }) => times.push(milliseconds) });
  return times;
}

const macs = new Map<string, number>();
for (const step of program.steps) macs.set(family(step), (macs.get(family(step)) ?? 0) + stepMultiplyAdds(step));
macs.set(GEMM_ONLY, program.steps.reduce((sum, step) => sum + (isLayerGemm(step) ? stepMultiplyAdds(step) : 0), 0));
macs.set(SWISH_PASS, 0);
macs.set(GATES_ON_WEIGHTS, 0);
macs.set(GATES_ON_MAPS, 0);

await stepTimes(program); // warm-up: plans memory and lets the engine tier up
await stepTimes(withoutSwishPass);
await stepTimes(withGatesOnMaps);
/** Per run: milliseconds per family, and the ceiling measured right before it. */
const runs: { ms: Map<string, number>; ceiling: number }[] = [];
for (let run = 0; run < RUNS; run++) {
  const ceiling = ceilingNow();
  const real = await stepTimes(program);
  const bare = await stepTimes(withoutSwishPass);
  const onMaps = await stepTimes(withGatesOnMaps);
  const ms = new Map<string, number>();
  program.steps.forEach((step, i) => ms.set(family(step), (ms.get(family(step)) ?? 0) + real[i]));
  const gemmOnly = withoutSwishPass.steps.reduce((sum, step, i) => sum + (isLayerGemm(step) ? bare[i] : 0), 0);
  const gemmWithSwish = program.steps.reduce((sum, step, i) => sum + (isLayerGemm(step) ? real[i] : 0), 0);
  ms.set(GEMM_ONLY, gemmOnly);
  ms.set(SWISH_PASS, gemmWithSwish - gemmOnly);
  ms.set(GATES_ON_WEIGHTS, program.steps.reduce((sum, step, i) => sum + (isGating(step) ? real[i] : 0), 0));
  ms.set(GATES_ON_MAPS, withGatesOnMaps.steps.reduce((sum, step, i) => sum + (isGating(step) ? onMaps[i] : 0), 0));
  runs.push({ ms, ceiling });
}

const build = relaxed ? 'relaxed-SIMD build' : 'deterministic build';
console.log(`EfficientNet-B0 224x224 batch 1, 1 thread, ${build}, per kernel family (medians of ${RUNS} runs); ${machineLine()}`);
console.log(`SIMD ceiling (register-bound f32x4 ${relaxed ? 'relaxed_madd' : 'mul+add'} loop, median of the per-run measurements): ` +
  `${median(runs.map((r) => r.ceiling)).toFixed(1)} G multiply-adds/s`);
const header = `${'family'.padEnd(38)}${'ms'.padStart(8)}${'G MACs'.padStart(9)}${'GMAC/s'.padStart(9)}${'of ceiling'.padStart(12)}`;
function row(name: string): string {
  const ms = median(runs.map((r) => r.ms.get(name) ?? 0));
  const gmacs = macs.get(name)! / 1e9;
  if (gmacs === 0) return `${name.padEnd(38)}${ms.toFixed(2).padStart(8)}${gmacs.toFixed(3).padStart(9)}${'-'.padStart(9)}${'-'.padStart(12)}`;
  const rate = gmacs / (ms / 1000);
  const share = median(runs.map((r) => gmacs / ((r.ms.get(name) ?? 0) / 1000) / r.ceiling));
  return `${name.padEnd(38)}${ms.toFixed(2).padStart(8)}${gmacs.toFixed(3).padStart(9)}${rate.toFixed(1).padStart(9)}${`${(100 * share).toFixed(0)}%`.padStart(12)}`;
}
console.log(header);
for (const name of new Set(program.steps.map(family))) console.log(row(name));
console.log(`${'total'.padEnd(38)}${median(runs.map((r) => [...new Set(program.steps.map(family))].reduce((s, f) => s + (r.ms.get(f) ?? 0), 0))).toFixed(2).padStart(8)}`);
console.log('in place, the same program with the expand/head swish epilogue switched off (alternated runs):');
console.log(row(GEMM_ONLY));
console.log(row(SWISH_PASS));
console.log('the same program with every SE gate applied to the map, as a channel-scale pass (alternated runs):');
console.log(row(GATES_ON_WEIGHTS));
console.log(row(GATES_ON_MAPS));
engine.dispose();
