/**
 * Where EfficientNet-B0's time goes, per kernel family, at 224 on one thread: the time of every
 * call of the real network summed per family (medians over runs), its G multiply-adds/s, and
 * its share of the machine's SIMD ceiling measured in the same run by a register-only loop
 * (independent f32x4 mul and add chains, no memory traffic).
 *
 *   npm run bench     (both builds; by hand: node [--experimental-wasm-relaxed-simd] dist-bench/bench/kernels.bench.js [--relaxed])
 *
 * With --relaxed it measures the relaxed-SIMD build (fused multiply-add in the GEMM and stem)
 * against that build's own ceiling, an FMA-only register loop.
 */
import { EfficientNet } from '../src/efficientnet.js';
import { stepMultiplyAdds } from '../src/plan/cost.js';
import type { Step } from '../src/plan/program.js';
import { peakProbeMultiplyAdds, type GemmExports } from '../src/runtime/kernels/gemm.js';
import { relaxedSimdProblem } from '../src/runtime/simd.js';
import { instantiateCore, relaxedWasmUrl } from '../src/runtime/wasm.js';
import { b0Workload, machineLine, median } from './support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const PROBE_ITERATIONS = 2_000_000;

const relaxed = process.argv.includes('--relaxed');
const problem = relaxed ? relaxedSimdProblem() : null;
if (problem !== null) {
  console.error(`kernels bench --relaxed: ${problem}`);
  process.exit(2);
}
const probeCore = (await instantiateCore(relaxed ? relaxedWasmUrl() : undefined)) as unknown as GemmExports;
function ceilingGmacs(): number {
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    const start = performance.now();
    probeCore.simd_peak_probe(PROBE_ITERATIONS);
    samples.push(performance.now() - start);
  }
  return (PROBE_ITERATIONS * peakProbeMultiplyAdds(probeCore)) / median(samples) / 1e6;
}

const { bytes, shape, input } = b0Workload();
const net = await EfficientNet.create({ variant: 'b0', weights: bytes, simd: relaxed ? 'relaxed' : 'deterministic' });

const family = (step: Step): string => {
  if (step.kind === 'pointwise') return step.module === 'classifier' ? 'classifier (gemm)' : step.activation === 'swish' ? 'pointwise expand/head (gemm+swish)' : 'pointwise project (gemm+residual)';
  return step.kind;
};

const ceilingBefore = ceilingGmacs();
await net.forward(input, shape); // warm-up
const timesPerRun: Map<string, number>[] = [];
const macs = new Map<string, number>();
for (let run = 0; run < RUNS; run++) {
  const times = new Map<string, number>();
  await net.forward(input, shape, {
    onStep: ({ step, milliseconds: ms }) => {
      times.set(family(step), (times.get(family(step)) ?? 0) + ms);
      if (run === 0) macs.set(family(step), (macs.get(family(step)) ?? 0) + stepMultiplyAdds(step));
    },
  });
  timesPerRun.push(times);
}
const ceiling = Math.max(ceilingBefore, ceilingGmacs());

const build = relaxed ? 'relaxed-SIMD build' : 'deterministic build';
console.log(`EfficientNet-B0 224x224 batch 1, 1 thread, ${build}, per kernel family (medians of ${RUNS} runs); ${machineLine()}`);
console.log(`SIMD ceiling (register-only f32x4 ${relaxed ? 'relaxed_madd' : 'mul+add'} loop): ${ceiling.toFixed(1)} G multiply-adds/s`);
console.log(`${'family'.padEnd(38)}${'ms'.padStart(8)}${'G MACs'.padStart(9)}${'GMAC/s'.padStart(9)}${'of ceiling'.padStart(12)}`);
let total = 0;
for (const name of macs.keys()) {
  const ms = median(timesPerRun.map((t) => t.get(name) ?? 0));
  total += ms;
  const gmacs = macs.get(name)! / 1e9;
  const rate = gmacs > 0 ? gmacs / (ms / 1000) : 0;
  console.log(`${name.padEnd(38)}${ms.toFixed(2).padStart(8)}${gmacs.toFixed(3).padStart(9)}${(rate ? rate.toFixed(1) : '-').padStart(9)}${(rate ? `${((100 * rate) / ceiling).toFixed(0)}%` : '-').padStart(12)}`);
}
console.log(`${'total'.padEnd(38)}${total.toFixed(2).padStart(8)}`);
net.dispose();
