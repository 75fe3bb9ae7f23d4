/**
 * A batch run by its schedule (some steps image by image, some batch-wide, `src/plan/schedule.ts`)
 * gives each image exactly the bits that image gets alone, on one thread and on several, and the
 * bits of the same batch run step by step (which is how runs with hooks go). Compared as SHA-256
 * hashes of each image's logits and features: no tolerance.
 *
 * Worker threads run the built `worker.js`, so this uses the built package in `dist/`, like
 * `determinism.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Library from '../../src/index.js';
import type * as Plan from '../../src/plan/program.js';
import type * as Schedule from '../../src/plan/schedule.js';
import type * as Engine from '../../src/runtime/wasm-engine.js';
import type * as Recipe from '../../src/weights/recipe.js';
import { sha256 } from '../support/hash.js';
import { mulberry32, randomFloats } from '../support/random.js';

const built = async <T>(path: string): Promise<T> => (await import(new URL(`../../dist/${path}`, import.meta.url).href)) as T;
const { createSyntheticWeights, buildNetwork, parseSafetensors } = await built<typeof Library>('index.js');
const { WasmEngine } = await built<typeof Engine>('runtime/wasm-engine.js');
const { buildProgram } = await built<typeof Plan>('plan/program.js');
const { schedulePhases } = await built<typeof Schedule>('plan/schedule.js');
const { foldingRecipe } = await built<typeof Recipe>('weights/recipe.js');

const network = buildNetwork('b0');
const file = parseSafetensors(createSyntheticWeights({ variant: 'b0', seed: 21 }));
const SIDE = 224; // B0's own size: its 7x7 GEMMs and classifier run batch-wide, the rest image by image
const IMAGE = 3 * SIDE * SIDE;
const programs = new Map<number, Plan.Program>();
const programFor = (n: number): Plan.Program => {
  if (!programs.has(n)) programs.set(n, buildProgram(network, 'same', [n, 3, SIDE, SIDE], { probabilities: true }));
  return programs.get(n)!;
};
/** Eight different images, `[8, 3, 224, 224]`. */
const images = randomFloats(mulberry32(22), 8 * IMAGE, 2);

/** Per image of `batch` (indices into `images`), the hash of its logits, features and probabilities. */
async function perImageHashes(engine: Engine.WasmEngine, batch: readonly number[], hooked = false): Promise<string[]> {
  const n = batch.length;
  const input = new Float32Array(n * IMAGE); // [n, 3, 224, 224]
  batch.forEach((image, slot) => input.set(images.subarray(image * IMAGE, (image + 1) * IMAGE), slot * IMAGE));
  const steps: number[] = [];
  const out = await engine.run(programFor(n), input, hooked ? { onStep: () => steps.push(1) } : {});
  if (hooked) expect(steps.length).toBe(programFor(n).steps.length);
  const classes = out.logits.length / n;
  const features = out.features.length / n;
  return batch.map((_, slot) => [
    sha256(out.logits.subarray(slot * classes, (slot + 1) * classes)),
    sha256(out.features.subarray(slot * features, (slot + 1) * features)),
    sha256(out.probabilities!.subarray(slot * classes, (slot + 1) * classes)),
  ].join(' '));
}

describe('b0 batches run by their schedule', () => {
  const engines = new Map<number, Engine.WasmEngine>();
  /** Each image's hashes when it runs alone on one thread: the reference. */
  let alone: string[];
  beforeAll(async () => {
    for (const threads of [1, 2, 3]) {
      const engine = await WasmEngine.load(file, foldingRecipe(network), 1e-3, { threads });
      expect(engine.threading).toEqual({ threads });
      engines.set(threads, engine);
    }
    alone = [];
    for (let image = 0; image < 8; image++) alone.push(...(await perImageHashes(engines.get(1)!, [image])));
    expect(new Set(alone).size, 'the eight images give different outputs').toBe(8);
  });
  afterAll(() => {
    for (const engine of engines.values()) engine.dispose();
  });

  it('has image-by-image and batch-wide phases at 8 images on 1 and 2 threads and 6 on 3 (else the tests below test nothing new)', () => {
    for (const [n, threads] of [[8, 1], [8, 2], [6, 3]]) {
      const kinds = new Set(schedulePhases(programFor(n), threads).map((phase) => phase.kind));
      expect([...kinds].sort(), `${n} images on ${threads} threads`).toEqual(['batch', 'per-image']);
    }
  });

  it.each([1, 2, 3])('gives each image of a batch of 8 its bits alone, on %i threads (3: every step batch-wide)', async (threads) => {
    expect(await perImageHashes(engines.get(threads)!, [0, 1, 2, 3, 4, 5, 6, 7])).toEqual(alone);
  });

  it('gives each image of a batch of 6 its bits alone, on 3 threads', async () => {
    expect(await perImageHashes(engines.get(3)!, [7, 6, 5, 4, 3, 2])).toEqual([7, 6, 5, 4, 3, 2].map((image) => alone[image]));
  });

  it.each([1, 2])('gives the same bits whatever shares the batch and in what order, on %i threads', async (threads) => {
    const batch = [5, 2, 2, 7, 0, 6, 1, 3];
    expect(await perImageHashes(engines.get(threads)!, batch)).toEqual(batch.map((image) => alone[image]));
  });

  it('gives the same bits at batch sizes that run batch-wide on some thread counts (3 on 2 threads, 2 on 3)', async () => {
    expect(await perImageHashes(engines.get(2)!, [4, 1, 6])).toEqual([4, 1, 6].map((image) => alone[image]));
    expect(await perImageHashes(engines.get(3)!, [3, 7])).toEqual([3, 7].map((image) => alone[image]));
  });

  it('gives the same bits when a worker coordinates (the browsers\' way), with and without hooks', async () => {
    const engine = await WasmEngine.load(file, foldingRecipe(network), 1e-3, { threads: 2, coordinator: 'worker' });
    try {
      expect(engine.threading).toEqual({ threads: 2 });
      const batch = [6, 7, 0, 1, 2, 3, 4, 5];
      expect(await perImageHashes(engine, batch)).toEqual(batch.map((image) => alone[image]));
      expect(await perImageHashes(engine, batch, true)).toEqual(batch.map((image) => alone[image]));
    } finally {
      engine.dispose();
    }
  });

  it('gives the same bits run step by step, as with hooks', async () => {
    expect(await perImageHashes(engines.get(2)!, [0, 1, 2, 3, 4, 5, 6, 7], true)).toEqual(alone);
  });
});
