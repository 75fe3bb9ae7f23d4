/**
 * The depthwise convolution alone on every depthwise layer of EfficientNet-B0 at 224 (one thread,
 * batch 1, TensorFlow SAME padding), as a share of the machine's SIMD ceiling measured by the
 * register-only probe next to each round. Each layer runs three ways, interleaved:
 *   full  - swish and the SE channel sums, as the network calls it;
 *   swish - swish, no sums;
 *   bare  - no activation, no sums: the convolution's own rate.
 * With `--before OLD.wasm` every layer also runs on a second core (an earlier build of the same
 * kernel), alternating with this one round by round, so before and after are paired in one run.
 *
 *   npx tsc -p tsconfig.bench.json && ln -sfn ../build dist-bench/build
 *   node dist-bench/bench/depthwise.bench.js [--before OLD.wasm] [--after NEW.wasm] [--rounds N] [--repeats N] [--only k3s1]
 */
import { resolve } from 'node:path';
import { buildNetwork } from '../src/arch/network.js';
import { stepMultiplyAdds } from '../src/plan/cost.js';
import { buildProgram, type DepthwiseStep } from '../src/plan/program.js';
import type { DepthwiseExports } from '../src/runtime/kernels/depthwise.js';
import { peakProbeMultiplyAdds, type GemmExports } from '../src/runtime/kernels/gemm.js';
import { instantiateCore, type CoreExports } from '../src/runtime/wasm.js';
import { machineLine, median } from './support.js';

const PROBE_ITERATIONS = 1_000_000;
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};
const ROUNDS = Number(option('--rounds') ?? 15);
/** Calls per layer per round, each timed as a whole: a few give the smallest layer a measurable time. */
const REPEATS = Number(option('--repeats') ?? 5);
/** `--only TEXT` keeps the layers whose label contains TEXT (e.g. `k3s1`). */
const only = option('--only');
const beforePath = option('--before');

const label = (l: DepthwiseStep): string => `${l.module} ${l.height}x${l.width}x${l.channels} k${l.kernel}s${l.stride}`;
const layers = buildProgram(buildNetwork('b0'), 'same', [1, 3, 224, 224]).steps
  .filter((step): step is DepthwiseStep => step.kind === 'depthwise' && (only === undefined || label(step).includes(only)));

const MODES = ['full', 'swish', 'bare'] as const;
type Mode = (typeof MODES)[number];

interface Contender {
  readonly name: string;
  /** Runs every layer REPEATS times in `mode`; returns milliseconds per layer (one call each). */
  readonly time: (mode: Mode) => number[];
  readonly ceiling: () => number;
}

async function contender(name: string, wasm: string): Promise<Contender> {
  const core: CoreExports = await instantiateCore(resolve(wasm));
  const kernels = core as unknown as DepthwiseExports & GemmExports;
  const swish = Number((core.ACTIVATION_SWISH as WebAssembly.Global).value);
  const none = Number((core.ACTIVATION_NONE as WebAssembly.Global).value);
  let top = Number((core.heap_base as () => number)());
  /** `floats` float32 slots, 64-byte aligned, filled with a smooth pattern in [-1, 1]. */
  const alloc = (floats: number): number => {
    const offset = Math.ceil(top / 64) * 64;
    top = offset + floats * 4 + 64;
    if (top > core.memory.buffer.byteLength) core.memory.grow(Math.ceil((top - core.memory.buffer.byteLength) / 65536));
    const view = new Float32Array(core.memory.buffer, offset, floats);
    for (let i = 0; i < floats; i++) view[i] = Math.sin(i * 0.37);
    return offset;
  };
  const calls = layers.map((l) => {
    const c = l.channels;
    const input = alloc(l.height * l.width * c); // [1, h, w, c]
    const weight = alloc(c * l.kernel * l.kernel); // [c, 1, k, k]
    const packed = alloc(kernels.depthwise_packed_floats(c, l.kernel));
    kernels.depthwise_pack(weight, c, l.kernel, packed);
    const bias = alloc(c); // [c]
    const output = alloc(l.outHeight * l.outWidth * c); // [1, outH, outW, c]
    const sums = alloc(c); // [1, c]
    return (mode: Mode) => kernels.depthwise_conv(input, 1, l.height, l.width, c, packed, bias, l.kernel, l.stride,
      l.padTop, l.padLeft, l.outHeight, l.outWidth, output, mode === 'bare' ? none : swish, mode === 'full' ? sums : 0);
  });
  return {
    name,
    time: (mode) => calls.map((call) => {
      call(mode); // the first call brings the layer's buffers into cache, as the GEMM before it does in the network
      const start = performance.now();
      for (let r = 0; r < REPEATS; r++) call(mode);
      return (performance.now() - start) / REPEATS;
    }),
    ceiling: () => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        kernels.simd_peak_probe(PROBE_ITERATIONS);
        best = Math.min(best, performance.now() - start);
      }
      return (PROBE_ITERATIONS * peakProbeMultiplyAdds(kernels)) / best / 1e6;
    },
  };
}

const contenders = [await contender('after', option('--after') ?? 'build/efficientnet.wasm')];
if (beforePath !== undefined) contenders.unshift(await contender('before', beforePath));

/** samples[contender][mode][layer]: ms per round; shares[contender][mode]: whole-network share per round. */
const samples = new Map<string, Map<Mode, number[][]>>();
const shares = new Map<string, Map<Mode, number[]>>();
for (const c of contenders) {
  samples.set(c.name, new Map(MODES.map((m) => [m, layers.map(() => [])])));
  shares.set(c.name, new Map(MODES.map((m) => [m, []])));
}
const layerMacs = layers.map((l) => stepMultiplyAdds(l));
const totalMacs = layerMacs.reduce((a, b) => a + b, 0);

for (const c of contenders) for (const mode of MODES) c.time(mode); // warm-up: lets the engine tier up
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? contenders : [...contenders].reverse();
  for (const c of order) {
    const ceiling = c.ceiling();
    for (const mode of MODES) {
      const ms = c.time(mode);
      ms.forEach((t, i) => samples.get(c.name)!.get(mode)![i].push(t));
      const total = ms.reduce((a, b) => a + b, 0);
      shares.get(c.name)!.get(mode)!.push(totalMacs / (total / 1000) / 1e9 / ceiling);
    }
  }
}

console.log(`EfficientNet-B0 224 depthwise layers, 1 thread, medians of ${ROUNDS} rounds; ${machineLine()}`);
const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
for (const c of contenders) {
  const s = samples.get(c.name)!;
  const totals = MODES.map((m) => s.get(m)!.reduce((sum, layer) => sum + median(layer), 0));
  console.log(`${c.name}: total ms full ${totals[0].toFixed(2)}, swish ${totals[1].toFixed(2)}, bare ${totals[2].toFixed(2)}; ` +
    `share of ceiling full ${pct(median(shares.get(c.name)!.get('full')!))}, swish ${pct(median(shares.get(c.name)!.get('swish')!))}, ` +
    `bare ${pct(median(shares.get(c.name)!.get('bare')!))}`);
}
console.log(`${'layer'.padEnd(30)}${contenders.map((c) => MODES.map((m) => `${c.name} ${m}`.padStart(14)).join('')).join('')}`);
layers.forEach((l, i) => {
  console.log(`${label(l).padEnd(30)}${contenders.map((c) => MODES.map((m) => median(samples.get(c.name)!.get(m)![i]).toFixed(3).padStart(14)).join('')).join('')}`);
});
console.log(`(${(totalMacs / 1e6).toFixed(1)} M multiply-adds in all)`);
