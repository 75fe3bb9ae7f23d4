/**
 * The shared work queue under real threads: across many runs and steps of random sizes, every
 * unit runs exactly once, no unit of a step starts before the previous step's units have all
 * finished, helpers that arrive late claim nothing of the wrong step, and a unit that throws
 * ends the run instead of hanging it. This test thread coordinates (Node's main thread may
 * block in Atomics.wait); helpers are worker threads running the built queue from `dist/`
 * (made by `npm run build`, which `npm test` runs first).
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Queue from '../../src/runtime/threads/work-queue.js';

const QUEUE_URL = new URL('../../dist/runtime/threads/work-queue.js', import.meta.url).href;
const { WorkQueue } = (await import(QUEUE_URL)) as typeof Queue;

const HELPERS = 3;
const RUNS = 200;
const MAX_STEPS = 12;
const MAX_UNITS = 40;
/** Log slots per unit: how often it ran, the clock when it started and when it finished, and which thread ran it. */
const SLOTS = 4;

/**
 * The units of a step, as source text so the helpers build the very same ones: each logs itself,
 * spins for a pseudo-random while (to vary who claims what), and the unit `failing` throws.
 */
const UNITS_SOURCE = `(log, thread, step, count, failing) => Array.from({ length: count }, (_, unit) => () => {
  const slot = 1 + ${SLOTS} * (step * ${MAX_UNITS} + unit);
  Atomics.store(log, slot + 3, thread);
  Atomics.store(log, slot + 1, Atomics.add(log, 0, 1));
  let spin = Math.imul(step * 977 + unit, 2654435761) >>> 24;
  while (spin-- > 0) Atomics.load(log, 0);
  Atomics.add(log, slot, 1);
  Atomics.store(log, slot + 2, Atomics.add(log, 0, 1));
  if (unit === failing) throw new Error('unit ' + unit + ' of step ' + step + ' failed on purpose');
})`;

const HELPER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const makeUnits = ${UNITS_SOURCE};
import(workerData.queueUrl).then(({ WorkQueue }) => {
  const queue = new WorkQueue(workerData.control);
  const log = new Int32Array(workerData.log);
  parentPort.on('message', ({ run, sizes, failing }) => {
    queue.help(run, (program, step) => makeUnits(log, workerData.thread, step, sizes[step], step === failing.step ? failing.unit : -1));
    const error = queue.takeError();
    parentPort.postMessage({ run, error: error === null ? null : String(error) });
  });
  parentPort.postMessage('ready');
});`;

type MakeUnits = (log: Int32Array, thread: number, step: number, count: number, failing: number) => (() => void)[];
const makeUnits = new Function(`return ${UNITS_SOURCE}`)() as MakeUnits;

const control = WorkQueue.createControl();
const queue = new WorkQueue(control);
const logBuffer = new SharedArrayBuffer(4 * (1 + SLOTS * MAX_STEPS * MAX_UNITS));
const log = new Int32Array(logBuffer); // [clock, then per (step, unit): runs, started, finished]
let helpers: Worker[] = [];

beforeAll(async () => {
  helpers = Array.from({ length: HELPERS }, (_, index) => new Worker(HELPER_SOURCE, {
    eval: true, workerData: { queueUrl: QUEUE_URL, control, log: logBuffer, thread: index + 1 },
  }));
  await Promise.all(helpers.map((helper) => new Promise((resolve) => helper.once('message', resolve))));
});

afterAll(async () => {
  await Promise.all(helpers.map((helper) => helper.terminate()));
});

interface Failing {
  step: number;
  unit: number;
}

/** One run on this thread and the helpers; returns once every helper has left it. */
async function run(id: number, sizes: number[], failing: Failing = { step: -1, unit: -1 }): Promise<{ failedSteps: number[]; helperErrors: string[] }> {
  log.fill(0);
  const left = helpers.map((helper) => new Promise<{ error: string | null }>((resolve) => helper.once('message', resolve)));
  for (const helper of helpers) helper.postMessage({ run: id, sizes, failing });
  queue.request(id);
  expect(queue.beginRun(id)).toBe(true);
  const failedSteps: number[] = [];
  sizes.forEach((count, step) => {
    queue.runStep(id, 0, step, makeUnits(log, 0, step, count, step === failing.step ? failing.unit : -1));
    if (queue.failed) failedSteps.push(step);
  });
  queue.endRun(id);
  const ownError = queue.takeError();
  const helperErrors = (await Promise.all(left)).map((r) => r.error).filter((e): e is string => e !== null);
  return { failedSteps, helperErrors: ownError === null ? helperErrors : [...helperErrors, String(ownError)] };
}

const entry = (step: number, unit: number): { runs: number; started: number; finished: number; thread: number } => {
  const slot = 1 + SLOTS * (step * MAX_UNITS + unit);
  return { runs: log[slot], started: log[slot + 1], finished: log[slot + 2], thread: log[slot + 3] };
};

describe('the work queue', () => {
  it('runs every unit exactly once, step after step, over many runs', { timeout: 60_000 }, async () => {
    let seed = 12345;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const threadsSeen = new Set<number>();
    for (let id = 1; id <= RUNS; id++) {
      const sizes = Array.from({ length: 1 + random(MAX_STEPS) }, () => 1 + random(MAX_UNITS));
      const { failedSteps, helperErrors } = await run(id, sizes);
      expect(failedSteps).toEqual([]);
      expect(helperErrors).toEqual([]);
      let previousFinish = -1;
      sizes.forEach((count, step) => {
        const units = Array.from({ length: count }, (_, unit) => entry(step, unit));
        expect(units.map((u) => u.runs), `run ${id} step ${step}`).toEqual(new Array(count).fill(1));
        const firstStart = Math.min(...units.map((u) => u.started));
        expect(firstStart, `run ${id}: step ${step} started before step ${step - 1} finished`).toBeGreaterThan(previousFinish);
        previousFinish = Math.max(...units.map((u) => u.finished));
        for (const u of units) threadsSeen.add(u.thread);
      });
    }
    // Otherwise the coordinator did everything alone and nothing above was tested across threads.
    expect([...threadsSeen].sort()).toEqual([0, 1, 2, 3]);
  });

  it('ends a run whose unit throws, with every unit of that step still run once', async () => {
    const sizes = [20, 30, 10];
    const { failedSteps, helperErrors } = await run(RUNS + 1, sizes, { step: 1, unit: 7 });
    expect(failedSteps).toEqual([1, 2]);
    expect(helperErrors).toHaveLength(1);
    expect(helperErrors[0]).toMatch(/unit 7 of step 1 failed on purpose/);
    expect(Array.from({ length: 30 }, (_, unit) => entry(1, unit).runs)).toEqual(new Array(30).fill(1));
    // The next run starts clean.
    const next = await run(RUNS + 2, [5]);
    expect(next.failedSteps).toEqual([]);
  });
});
