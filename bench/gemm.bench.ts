/**
 * GFLOP/s of the core's GEMM on EfficientNet-B0's pointwise shapes at 224, next to the machine's
 * f32x4 mul+add ceiling as measured by simd_peak_probe. Single thread; medians of tinybench
 * samples (a shared machine moves them by 10-20%, so the probe runs first and last).
 *
 *   npm run bench                                        (all benches, this one included)
 *   node dist-bench/bench/gemm.bench.js [path/to/efficientnet.wasm] [--swish]   (after it, alone)
 *   node dist-bench/bench/gemm.bench.js build/efficientnet-relaxed.wasm   (restarts itself with relaxed SIMD on if needed)
 */
import { resolve } from 'node:path';
import { Bench } from 'tinybench';
import { gemmFlops, peakProbeMultiplyAdds, type GemmExports } from '../src/runtime/kernels/gemm.js';
import { instantiateCore } from '../src/runtime/wasm.js';
import { ensureRelaxedSimd } from './relaxed-flag.js';

/** [rows, K, N]: B0's expand, project, head and classifier layers, from large-rows/small-K to small-rows/large-K. */
const SHAPES: readonly (readonly [number, number, number])[] = [
  [12544, 32, 16], [12544, 16, 96], [3136, 24, 144], [3136, 144, 24], [784, 240, 40], [196, 480, 80],
  [196, 80, 480], [196, 672, 112], [49, 1152, 192], [49, 192, 1152], [49, 320, 1280], [1, 1280, 1000],
];
const PROBE_ITERATIONS = 1_000_000;

const args = process.argv.slice(2);
const wasmPath = resolve(args.find((arg) => !arg.startsWith('--')) ?? 'build/efficientnet.wasm');
if (wasmPath.includes('relaxed')) ensureRelaxedSimd();
const core = await instantiateCore(wasmPath);
const gemm = core as unknown as GemmExports;
const activation = Number((core[args.includes('--swish') ? 'ACTIVATION_SWISH' : 'ACTIVATION_NONE'] as WebAssembly.Global).value);

let top = Number((core.heap_base as () => number)());
/** Reserves `floats` float32 slots, 64-byte aligned, filled with a smooth pattern in [-1, 1]. */
function alloc(floats: number): number {
  const offset = Math.ceil(top / 64) * 64;
  top = offset + floats * 4;
  if (top > core.memory.buffer.byteLength) core.memory.grow(Math.ceil((top - core.memory.buffer.byteLength) / 65536));
  const view = new Float32Array(core.memory.buffer, offset, floats);
  for (let i = 0; i < floats; i++) view[i] = Math.sin(i * 0.37);
  return offset;
}

const bench = new Bench({ time: 400, warmupTime: 200 });
const probe = (): number => gemm.simd_peak_probe(PROBE_ITERATIONS);
bench.add('probe (first)', probe);
for (const [rows, K, N] of SHAPES) {
  const input = alloc(rows * K); // [rows, K]
  const weight = alloc(N * K); // [N, K]
  const packed = alloc(gemm.gemm_packed_floats(K, N));
  const bias = alloc(N); // [N]
  const output = alloc(rows * N); // [rows, N]
  gemm.gemm_pack(weight, K, N, packed);
  bench.add(`${rows}x${K}x${N}`, () => gemm.gemm(input, rows, K, packed, bias, N, output, activation, 0));
}
bench.add('probe (last)', probe);
await bench.run();

/** GFLOP/s of a task from its median latency (ms). */
function gflops(name: string, flops: number): number {
  const result = bench.getTask(name)?.result;
  if (result === undefined || !('latency' in result)) throw new Error(`benchmark "${name}" did not complete`);
  return flops / result.latency.p50 / 1e6;
}

const probeFlops = PROBE_ITERATIONS * peakProbeMultiplyAdds(gemm) * 2;
const ceiling = Math.max(gflops('probe (first)', probeFlops), gflops('probe (last)', probeFlops));
const build = Number((core.RELAXED_SIMD as WebAssembly.Global).value) === 1 ? 'relaxed (fused multiply-add)' : 'deterministic (mul + add)';
console.log(`${wasmPath}: ${build}`);
console.log(`ceiling (simd_peak_probe): ${ceiling.toFixed(1)} GFLOP/s`);
console.log(`${'rows x K x N'.padEnd(18)}${'GFLOP/s'.padStart(9)}${'of ceiling'.padStart(12)}`);
for (const [rows, K, N] of SHAPES) {
  const value = gflops(`${rows}x${K}x${N}`, gemmFlops(rows, K, N));
  console.log(`${`${rows}x${K}x${N}`.padEnd(18)}${value.toFixed(1).padStart(9)}${`${((100 * value) / ceiling).toFixed(0)}%`.padStart(12)}`);
}
