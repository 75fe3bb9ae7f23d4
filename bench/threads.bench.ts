/**
 * What a second thread buys: EfficientNet-B0 at 224, batch BENCH_BATCH (default 1), on 1 and 2
 * threads, run in alternation so a noisy neighbour slows both alike; medians and the speed-up.
 *
 * On a shared machine the answer depends on whether a second core is actually free, and that
 * changes from second to second. So every round also measures the machine's ceiling right then:
 * two independent one-thread models, each in its own worker, run one forward pass each at the
 * same moment. Their throughput over one model's alone is what two cores give this very
 * workload with no coordination at all: 2.0 when both cores are free, 1.0 when the two threads
 * had to share one. The speed-up is reported over all rounds and over the rounds whose ceiling
 * reached QUIET_CEILING, together with the load average.
 *
 *   npx tsc -p tsconfig.bench.json && ln -sfn ../build dist-bench/build && node dist-bench/bench/threads.bench.js
 *   (BENCH_ROUNDS, default 60; BENCH_BATCH, default 1; BENCH_BASELINE, the path of another build's
 *   `src/index.js` to measure on 1 and 2 threads in the same rounds, e.g. the build before a change)
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EfficientNet } from '../src/efficientnet.js';
import { createSyntheticWeights } from '../src/weights/synthetic.js';
import { machineLine, median } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);
/** Ceiling from which a round counts as one where two cores were really free. */
const QUIET_CEILING = 1.85;
/** Images per forward pass: 8 shows how a batch's schedule shares out (plan/schedule.ts). */
const BATCH = Number(process.env.BENCH_BATCH ?? 1);

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Weights, shape and input, as source text so the ceiling's workers build exactly the same. */
const SETUP = `
  const weights = library.createSyntheticWeights({ variant: 'b0', seed: 1 });
  const shape = [batch, 3, 224, 224];
  const input = new Float32Array(batch * 3 * 224 * 224).map((_, i) => Math.sin(i * 0.01));`;
type Setup = { weights: Uint8Array; shape: number[]; input: Float32Array };
const setup = new Function('library', 'batch', `${SETUP}\nreturn { weights, shape, input };`) as (library: unknown, batch: number) => Setup;

// A ceiling worker: a one-thread model of its own (the built library, run as plain JavaScript),
// answering each message with one forward pass.
const CEILING_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.library).then(async (library) => {
  const batch = workerData.batch;
  ${SETUP}
  const net = await library.EfficientNet.create({ variant: 'b0', weights });
  for (let i = 0; i < 3; i++) await net.forward(input, shape);
  parentPort.on('message', async () => {
    await net.forward(input, shape);
    parentPort.postMessage('done');
  });
  parentPort.postMessage('ready');
});`;
const library = new URL('../src/index.js', import.meta.url).href;
const ceilingWorkers = [0, 1].map(() => new Worker(CEILING_WORKER, { eval: true, workerData: { library, batch: BATCH } }));
const reply = (worker: Worker): Promise<unknown> => new Promise((resolve) => worker.once('message', resolve));
await Promise.all(ceilingWorkers.map(reply));
const bothAtOnce = (): Promise<unknown[]> => Promise.all(ceilingWorkers.map((worker) => {
  const done = reply(worker);
  worker.postMessage('run');
  return done;
}));

const { weights, shape, input } = setup({ createSyntheticWeights }, BATCH);
type Model = Pick<EfficientNet, 'forward' | 'dispose' | 'threading'>;
type Library = { EfficientNet: { create(options: { variant: 'b0'; weights: Uint8Array; threads?: number }): Promise<Model> } };
async function models(library: Library): Promise<[Model, Model]> {
  const single = await library.EfficientNet.create({ variant: 'b0', weights });
  const pair = await library.EfficientNet.create({ variant: 'b0', weights, threads: 2 });
  if (pair.threading.reason !== undefined) throw new Error(`cannot run 2 threads here: ${pair.threading.reason}`);
  for (let i = 0; i < 3; i++) {
    await single.forward(input, shape); // warm-up: plans memory, binds the workers' calls, lets the engine tier up
    await pair.forward(input, shape);
  }
  return [single, pair];
}
const [one, two] = await models({ EfficientNet });
const baselinePath = process.env.BENCH_BASELINE;
const baseline = baselinePath === undefined ? null : await models((await import(pathToFileURL(baselinePath).href)) as Library);

const time = async (run: () => Promise<unknown>): Promise<number> => {
  const start = performance.now();
  await run();
  return performance.now() - start;
};

interface Round {
  readonly one: number;
  readonly two: number;
  readonly ceiling: number;
  /** The baseline build's times in the same round, if one is measured. */
  readonly baseline: { readonly one: number; readonly two: number } | null;
}

const loadBefore = load();
const rounds: Round[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const contenders = [one, two, ...(baseline ?? [])];
  const order = round % 2 === 0 ? contenders : [...contenders].reverse();
  const times = new Map<Model, number>();
  for (const model of order) times.set(model, await time(() => model.forward(input, shape)));
  const oneMs = times.get(one)!;
  rounds.push({
    one: oneMs, two: times.get(two)!, ceiling: (2 * oneMs) / (await time(bothAtOnce)),
    baseline: baseline === null ? null : { one: times.get(baseline[0])!, two: times.get(baseline[1])! },
  });
}
const loadAfter = load();
for (const model of [one, two, ...(baseline ?? [])]) model.dispose();
await Promise.all(ceilingWorkers.map((worker) => worker.terminate()));

function report(label: string, selected: readonly Round[]): void {
  if (selected.length === 0) {
    console.log(`${label}: none`);
    return;
  }
  const [oneMs, twoMs] = [median(selected.map((r) => r.one)), median(selected.map((r) => r.two))];
  // Per round, the speed-up over what the machine gave two independent threads right then.
  const ofCeiling = median(selected.map((r) => r.one / r.two / r.ceiling));
  console.log(`${label} (${selected.length}): 1 thread ${oneMs.toFixed(1)} ms, 2 threads ${twoMs.toFixed(1)} ms (medians); ` +
    `speed-up ${(oneMs / twoMs).toFixed(2)}x, per round over the ceiling ${ofCeiling.toFixed(2)}`);
  const base = selected.flatMap((r) => (r.baseline === null ? [] : [{ ...r.baseline, ceiling: r.ceiling }]));
  if (base.length === 0) return;
  const [baseOne, baseTwo] = [median(base.map((r) => r.one)), median(base.map((r) => r.two))];
  console.log(`  baseline build: 1 thread ${baseOne.toFixed(1)} ms, 2 threads ${baseTwo.toFixed(1)} ms; speed-up ${(baseOne / baseTwo).toFixed(2)}x, ` +
    `per round over the ceiling ${median(base.map((r) => r.one / r.two / r.ceiling)).toFixed(2)}`);
}

console.log(`EfficientNet-B0 224x224 batch ${BATCH}, synthetic weights; ${machineLine()}`);
console.log(`load average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAfter}`);
console.log(`ceiling (two independent one-thread models at once, throughput over one): median ${median(rounds.map((r) => r.ceiling)).toFixed(2)}x`);
report('all rounds', rounds);
report(`rounds with a ceiling of at least ${QUIET_CEILING}x`, rounds.filter((r) => r.ceiling >= QUIET_CEILING));
