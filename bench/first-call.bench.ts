/**
 * The first forward pass after `create` against a warm one, and what `create` costs.
 *
 * A first call can only be timed once per process, so each sample is a fresh Node process (this
 * file run with `--child`): it times `EfficientNet.create` on synthetic weights (made before the
 * clock starts), the first `forward` at the model's own resolution, and the median of WARM_RUNS
 * later ones. Next to it, in the same process order, a peer without the warm-up `create` does:
 * the engine loaded and the program run directly, as `create` did before it warmed up. Rounds
 * interleave the cases, so a change in the machine's load hits all of them alike; the tables give
 * medians over rounds of each time and of each process's first/warm ratio.
 *
 *   npm run build:ts && tsc -p tsconfig.bench.json && node dist-bench/bench/first-call.bench.js
 *   (BENCH_ROUNDS, default 7)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildNetwork } from '../src/arch/network.js';
import { variantTitle, type VariantName } from '../src/arch/variants.js';
import { EfficientNet } from '../src/efficientnet.js';
import { buildProgram } from '../src/plan/program.js';
import { WasmEngine } from '../src/runtime/wasm-engine.js';
import { foldingRecipe } from '../src/weights/recipe.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { createSyntheticWeights } from '../src/weights/synthetic.js';
import { machineLine, median } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const WARM_RUNS = 5;

/** What one child process measures. `forwards` false: only `create` (B4 and B7, whose passes take seconds). */
interface Case {
  readonly variant: VariantName;
  readonly threads: number;
  readonly forwards: boolean;
  /** `create` with its warm-up, or the engine alone as before the warm-up existed. */
  readonly how: 'create' | 'engine-only';
}

interface Sample {
  readonly createMs: number;
  readonly firstMs: number | null;
  readonly warmMs: number | null;
}

const CASES: readonly Case[] = [
  { variant: 'b0', threads: 1, forwards: true, how: 'create' },
  { variant: 'b0', threads: 1, forwards: true, how: 'engine-only' },
  { variant: 'b0', threads: 2, forwards: true, how: 'create' },
  { variant: 'b4', threads: 1, forwards: false, how: 'create' },
  { variant: 'b7', threads: 1, forwards: false, how: 'create' },
];

const describe = (c: Case): string =>
  `${variantTitle(c.variant)}, ${c.threads} thread${c.threads > 1 ? 's' : ''}${c.how === 'engine-only' ? ', engine without warm-up' : ''}`;

/** A smooth NCHW image `[1, 3, size, size]`. */
function smoothImage(size: number): Float32Array {
  const input = new Float32Array(3 * size * size); // [1, 3, size, size]
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.01);
  return input;
}

/** One child's measurement (runs in the fresh process). */
async function measure(c: Case): Promise<Sample> {
  const weights = createSyntheticWeights({ variant: c.variant, seed: 1 });
  let forward: (input: Float32Array) => Promise<unknown>;
  let size: number;
  let dispose: () => void;
  let start = performance.now();
  if (c.how === 'create') {
    const net = await EfficientNet.create({ weights, variant: c.variant, threads: c.threads });
    size = net.recipe.size;
    forward = (input) => net.forward(input, [1, 3, size, size]);
    dispose = () => net.dispose();
  } else {
    const network = buildNetwork(c.variant);
    const engine = await WasmEngine.load(parseSafetensors(weights), foldingRecipe(network), 1e-3, { threads: c.threads });
    size = network.coefficients.resolution;
    const program = buildProgram(network, 'same', [1, 3, size, size]);
    forward = async (input) => engine.run(program, input, {});
    dispose = () => engine.dispose();
  }
  const createMs = performance.now() - start;
  if (!c.forwards) {
    dispose();
    return { createMs, firstMs: null, warmMs: null };
  }
  const input = smoothImage(size);
  start = performance.now();
  await forward(input);
  const firstMs = performance.now() - start;
  const warm: number[] = [];
  for (let run = 0; run < WARM_RUNS; run++) {
    start = performance.now();
    await forward(input);
    warm.push(performance.now() - start);
  }
  dispose();
  return { createMs, firstMs, warmMs: median(warm) };
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await measure(JSON.parse(process.argv[3]) as Case)));
} else {
  const self = fileURLToPath(import.meta.url);
  const load = (): string => (process.platform === 'linux' ? execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ')[0] : 'n/a');
  console.log(machineLine());
  console.log(`one-minute load average at the start: ${load()}`);
  const samples = CASES.map(() => [] as Sample[]);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? CASES.map((_, i) => i) : CASES.map((_, i) => CASES.length - 1 - i);
    for (const i of order) {
      const output = execFileSync(process.execPath, [self, '--child', JSON.stringify(CASES[i])], { encoding: 'utf8' });
      samples[i].push(JSON.parse(output.trim().split('\n').at(-1)!) as Sample);
    }
    console.log(`round ${round + 1}: ${samples.map((s) => {
      const last = s.at(-1)!;
      return last.firstMs === null ? last.createMs.toFixed(0) : `${last.createMs.toFixed(0)}/${last.firstMs.toFixed(0)}/${last.warmMs!.toFixed(0)}`;
    }).join(' ')} ms`);
  }
  console.log(`one-minute load average at the end: ${load()}`);
  console.log(`\n${ROUNDS} rounds of fresh processes; warm = median of ${WARM_RUNS} passes after the first; medians over rounds\n`);
  console.log('| case | create | first forward | warm forward | first / warm |');
  console.log('| --- | --- | --- | --- | --- |');
  CASES.forEach((c, i) => {
    const s = samples[i];
    const ms = (values: number[]): string => `${median(values).toFixed(1)} ms`;
    const cells = c.forwards
      ? [ms(s.map((x) => x.firstMs!)), ms(s.map((x) => x.warmMs!)), `${median(s.map((x) => x.firstMs! / x.warmMs!)).toFixed(2)}x`]
      : ['-', '-', '-'];
    console.log(`| ${describe(c)} | ${ms(s.map((x) => x.createMs))} | ${cells.join(' | ')} |`);
  });
}
