/**
 * GFLOP/s of the core's GEMM on EfficientNet-B0's pointwise shapes at 224, next to the machine's
 * f32x4 mul+add ceiling as measured by simd_peak_probe before every round. Single thread; medians
 * over rounds (a shared machine moves single runs by 10-20%).
 *
 * With `--before OLD.wasm` every shape also runs on a second core (an earlier build of the GEMM),
 * alternating with this one round by round, so before and after are paired in one run; the two
 * cores' outputs are compared bit for bit first, since a kernel change must not change any bits
 * (`--unchecked` skips that, for speed-of-light experiments whose results are wrong on purpose).
 *
 *   npm run bench                                        (all benches, this one included)
 *   node dist-bench/bench/gemm.bench.js [--after NEW.wasm] [--before OLD.wasm] [--rounds N] [--swish] [--unchecked]
 *   node dist-bench/bench/gemm.bench.js --after build/efficientnet-relaxed.wasm   (restarts itself with relaxed SIMD on if needed)
 * (A bare path as the first argument is taken as --after, as before.)
 */
import { resolve } from 'node:path';
import { gemmFlops, peakProbeMultiplyAdds, type GemmExports } from '../src/runtime/kernels/gemm.js';
import { instantiateCore } from '../src/runtime/wasm.js';
import { ensureRelaxedSimd } from './relaxed-flag.js';
import { machineLine, median } from './support.js';

/** [rows, K, N]: B0's expand, project, head and classifier layers, from large-rows/small-K to small-rows/large-K. */
const SHAPES: readonly (readonly [number, number, number])[] = [
  [12544, 32, 16], [12544, 16, 96], [3136, 24, 144], [3136, 144, 24], [784, 240, 40], [196, 480, 80],
  [196, 80, 480], [196, 672, 112], [49, 1152, 192], [49, 192, 1152], [49, 320, 1280], [1, 1280, 1000],
];
const PROBE_ITERATIONS = 1_000_000;
/** Multiply-adds per timed batch of calls: enough (a few ms) that the timer's grain does not matter. */
const MULTIPLY_ADDS_PER_SAMPLE = 40e6;

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};
const optionValues = new Set(['--after', '--before', '--rounds'].map(option));
const bare = args.find((arg) => !arg.startsWith('--') && !optionValues.has(arg));
const afterPath = resolve(option('--after') ?? bare ?? 'build/efficientnet.wasm');
const beforePath = option('--before');
const ROUNDS = Number(option('--rounds') ?? 9);
if (afterPath.includes('relaxed') || (beforePath ?? '').includes('relaxed')) ensureRelaxedSimd();
const swish = args.includes('--swish');

interface Contender {
  readonly name: string;
  readonly build: string;
  /** Milliseconds per call of each shape, one timed batch of calls each. */
  readonly time: () => number[];
  /** The ceiling in GFLOP/s: best of three probe runs. */
  readonly ceiling: () => number;
  /** Each shape's output after one call (a copy). */
  readonly outputs: () => Float32Array[];
}

async function contender(name: string, wasm: string): Promise<Contender> {
  const core = await instantiateCore(resolve(wasm));
  const gemm = core as unknown as GemmExports;
  const activation = Number((core[swish ? 'ACTIVATION_SWISH' : 'ACTIVATION_NONE'] as WebAssembly.Global).value);
  let top = Number((core.heap_base as () => number)());
  /** Reserves `floats` float32 slots, 64-byte aligned, filled with a smooth pattern in [-1, 1]. */
  const alloc = (floats: number): number => {
    const offset = Math.ceil(top / 64) * 64;
    top = offset + floats * 4;
    if (top > core.memory.buffer.byteLength) core.memory.grow(Math.ceil((top - core.memory.buffer.byteLength) / 65536));
    const view = new Float32Array(core.memory.buffer, offset, floats);
    for (let i = 0; i < floats; i++) view[i] = Math.sin(i * 0.37);
    return offset;
  };
  const calls = SHAPES.map(([rows, K, N]) => {
    const input = alloc(rows * K); // [rows, K]
    const weight = alloc(N * K); // [N, K]
    const packed = alloc(gemm.gemm_packed_floats(K, N)); // [panels, K, 16]
    const bias = alloc(N); // [N]
    const output = alloc(rows * N); // [rows, N]
    gemm.gemm_pack(weight, K, N, packed);
    const repeats = Math.max(1, Math.round(MULTIPLY_ADDS_PER_SAMPLE / (rows * K * N)));
    return {
      run: () => gemm.gemm(input, rows, K, packed, bias, N, output, activation, 0),
      repeats,
      output: () => new Float32Array(core.memory.buffer, output, rows * N).slice(),
    };
  });
  const probeFlops = PROBE_ITERATIONS * peakProbeMultiplyAdds(gemm) * 2;
  return {
    name,
    build: Number((core.RELAXED_SIMD as WebAssembly.Global).value) === 1 ? 'relaxed (fused multiply-add)' : 'deterministic (mul + add)',
    time: () => calls.map(({ run, repeats }) => {
      run(); // brings the shape's buffers into cache, as the layer before it does in the network
      const start = performance.now();
      for (let r = 0; r < repeats; r++) run();
      return (performance.now() - start) / repeats;
    }),
    ceiling: () => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        gemm.simd_peak_probe(PROBE_ITERATIONS);
        best = Math.min(best, performance.now() - start);
      }
      return probeFlops / best / 1e6;
    },
    outputs: () => calls.map(({ run, output }) => {
      run();
      return output();
    }),
  };
}

const contenders = [await contender('after', afterPath)];
if (beforePath !== undefined) contenders.unshift(await contender('before', beforePath));

const shapeLabel = ([rows, K, N]: readonly [number, number, number]): string => `${rows}x${K}x${N}`;
if (contenders.length === 2 && !args.includes('--unchecked')) {
  // Both cores see the same inputs (same pattern, same allocation order), so their outputs must match bit for bit.
  const [before, after] = contenders.map((c) => c.outputs());
  SHAPES.forEach((shape, i) => {
    const a = new Uint32Array(before[i].buffer), b = new Uint32Array(after[i].buffer);
    const differing = a.findIndex((bits, j) => bits !== b[j]);
    if (differing >= 0) throw new Error(`${shapeLabel(shape)}: output ${differing} differs between the cores`);
  });
}

/** ms[contender][shape]: one sample per round; share[contender][shape]: GFLOP/s / ceiling per round. */
const ms = new Map(contenders.map((c) => [c.name, SHAPES.map((): number[] => [])]));
const share = new Map(contenders.map((c) => [c.name, SHAPES.map((): number[] => [])]));
const ceilings = new Map(contenders.map((c): [string, number[]] => [c.name, []]));
/** ratio[shape]: after's time / before's time, paired within each round. */
const ratio = SHAPES.map((): number[] => []);

for (const c of contenders) c.time(); // warm-up: lets the engine tier up
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? contenders : [...contenders].reverse();
  const times = new Map<string, number[]>();
  for (const c of order) {
    const ceiling = c.ceiling();
    ceilings.get(c.name)!.push(ceiling);
    const t = c.time();
    times.set(c.name, t);
    t.forEach((value, i) => {
      ms.get(c.name)![i].push(value);
      share.get(c.name)![i].push(gemmFlops(...SHAPES[i]) / value / 1e6 / ceiling);
    });
  }
  if (contenders.length === 2) SHAPES.forEach((_, i) => ratio[i].push(times.get('after')![i] / times.get('before')![i]));
}

const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
console.log(`GEMM on B0's pointwise shapes, 1 thread${swish ? ', swish' : ''}, medians of ${ROUNDS} rounds; ${machineLine()}`);
for (const c of contenders) {
  console.log(`${c.name}: ${c.name === 'after' ? afterPath : resolve(beforePath!)}: ${c.build}; ceiling (simd_peak_probe) ${median(ceilings.get(c.name)!).toFixed(1)} GFLOP/s`);
}
const header = contenders.map((c) => `${`${c.name} ms`.padStart(12)}${'GFLOP/s'.padStart(9)}${'of ceiling'.padStart(11)}`).join('');
console.log(`${'rows x K x N'.padEnd(16)}${header}${contenders.length === 2 ? 'after/before'.padStart(14) : ''}`);
SHAPES.forEach((shape, i) => {
  const columns = contenders.map((c) => {
    const t = median(ms.get(c.name)![i]);
    return `${t.toFixed(4).padStart(12)}${(gemmFlops(...shape) / t / 1e6).toFixed(1).padStart(9)}${pct(median(share.get(c.name)![i])).padStart(11)}`;
  }).join('');
  console.log(`${shapeLabel(shape).padEnd(16)}${columns}${contenders.length === 2 ? median(ratio[i]).toFixed(3).padStart(14) : ''}`);
});
for (const c of contenders) {
  const total = SHAPES.reduce((sum, _, i) => sum + median(ms.get(c.name)![i]), 0);
  console.log(`${c.name}: all shapes ${total.toFixed(3)} ms`);
}
