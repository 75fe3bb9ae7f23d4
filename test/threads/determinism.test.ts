/**
 * Principle 2, end to end: a model gives bit-identical outputs on 1, 2, 3 and 4 threads (compared
 * as SHA-256 hashes of the bytes, no tolerance). One thread is the single-threaded core; more are
 * the threaded core with its worker pool, so this also shows both builds compute the same bits.
 *
 * Worker threads run the built `worker.js`, so this file uses the built package in `dist/` (made
 * by `npm run build`, which `npm test` runs first), like the CLI tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Library from '../../src/index.js';
import type * as Plan from '../../src/plan/program.js';
import type * as Engine from '../../src/runtime/wasm-engine.js';
import type * as Recipe from '../../src/weights/recipe.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { sha256 } from '../support/hash.js';

const built = async <T>(path: string): Promise<T> => (await import(new URL(`../../dist/${path}`, import.meta.url).href)) as T;
const { EfficientNet, createSyntheticWeights, buildNetwork, parseSafetensors } = await built<typeof Library>('index.js');
const { WasmEngine } = await built<typeof Engine>('runtime/wasm-engine.js');
const { buildProgram } = await built<typeof Plan>('plan/program.js');
const { foldingRecipe } = await built<typeof Recipe>('weights/recipe.js');
type Net = Library.EfficientNet;

const THREAD_COUNTS = [1, 2, 3, 4];

async function createNets(options: Omit<Library.CreateOptions, 'threads'>, counts: readonly number[]): Promise<Map<number, Net>> {
  const nets = new Map<number, Net>();
  for (const threads of counts) {
    const net = await EfficientNet.create({ ...options, threads });
    // The test is void unless the model really runs on that many threads.
    expect(net.threading, `threads: ${threads}`).toEqual({ threads });
    nets.set(threads, net);
  }
  return nets;
}

/** Hashes of the logits and features of each net on the same input. */
async function hashes(nets: Map<number, Net>, shape: [number, number, number, number], seed: number): Promise<Map<number, string>> {
  const input = randomFloats(mulberry32(seed), shape.reduce((a, b) => a * b), 2); // [n, 3, h, w]
  const result = new Map<number, string>();
  for (const [threads, net] of nets) {
    const { logits, features } = await net.forward(input, shape);
    expect(logits.every(Number.isFinite), 'finite logits').toBe(true);
    result.set(threads, `logits ${sha256(logits)}, features ${sha256(features)}`);
  }
  return result;
}

function expectAllEqual(byThreads: Map<number, string>): void {
  const one = byThreads.get(1);
  for (const [threads, hash] of byThreads) expect(hash, `${threads} threads vs 1`).toBe(one);
}

describe('b0 with same padding on 1 to 4 threads', () => {
  let nets: Map<number, Net>;
  beforeAll(async () => {
    nets = await createNets({ variant: 'b0', weights: createSyntheticWeights({ variant: 'b0', seed: 11 }) }, THREAD_COUNTS);
  });
  afterAll(() => {
    for (const net of nets?.values() ?? []) net.dispose();
  });

  it('gives the same bits at 224, batch 1', async () => {
    expectAllEqual(await hashes(nets, [1, 3, 224, 224], 1));
  });
  it('gives the same bits at odd sizes, batch 2', async () => {
    expectAllEqual(await hashes(nets, [2, 3, 97, 131], 2));
    expectAllEqual(await hashes(nets, [2, 3, 225, 161], 3));
  });
  it('gives the same bits at a size whose last maps are 1x1 (GEMMs cut by columns)', async () => {
    expectAllEqual(await hashes(nets, [2, 3, 30, 33], 4));
  });
  it('gives the same checkpoints, probabilities and feature maps when hooks run it step by step', async () => {
    const shape: [number, number, number, number] = [1, 3, 64, 80];
    const input = randomFloats(mulberry32(5), 3 * 64 * 80, 2); // [1, 3, 64, 80]
    const seen = new Map<number, string[]>();
    for (const threads of [1, 3]) {
      const checkpoints: string[] = [];
      await nets.get(threads)!.forward(input, shape, { onCheckpoint: (c, data) => checkpoints.push(`${c.module} ${sha256(data)}`) });
      seen.set(threads, checkpoints);
    }
    expect(seen.get(1)!.length).toBeGreaterThan(10);
    expect(seen.get(3)).toEqual(seen.get(1));
  });
  it('gives the same bits for a request run while another is queued', async () => {
    // Runs are queued per model: two forwards started together must not interleave on the workers.
    const shape: [number, number, number, number] = [1, 3, 96, 96];
    const first = randomFloats(mulberry32(6), 3 * 96 * 96, 2); // [1, 3, 96, 96]
    const second = randomFloats(mulberry32(7), 3 * 96 * 96, 2); // [1, 3, 96, 96]
    const [a, b] = await Promise.all([nets.get(2)!.forward(first, shape), nets.get(2)!.forward(second, shape)]);
    expect(sha256(a.logits)).toBe(sha256((await nets.get(1)!.forward(first, shape)).logits));
    expect(sha256(b.logits)).toBe(sha256((await nets.get(1)!.forward(second, shape)).logits));
  });
});

describe('b0 with symmetric padding on 1 and 3 threads', () => {
  it('gives the same bits at odd sizes, batch 2', async () => {
    const nets = await createNets({ model: 'efficientnet_b0.ra_in1k', weights: createSyntheticWeights({ variant: 'b0', seed: 12 }) }, [1, 3]);
    try {
      expectAllEqual(await hashes(nets, [2, 3, 57, 70], 8));
    } finally {
      for (const net of nets.values()) net.dispose();
    }
  });
});

describe('b3 on 1 to 4 threads', () => {
  it('gives the same bits at its resolution, 300', async () => {
    const nets = await createNets({ variant: 'b3', weights: createSyntheticWeights({ variant: 'b3', seed: 13 }) }, THREAD_COUNTS);
    try {
      expectAllEqual(await hashes(nets, [1, 3, 300, 300], 9));
    } finally {
      for (const net of nets.values()) net.dispose();
    }
  });
});

describe('Lite and V2 on 1 to 4 threads', () => {
  // Lite: ReLU6 epilogues and no SE. V2: full 3x3 convs (conv-bn-act with a residual, fused-MBConv)
  // cut into bands of output rows, then MBConv with SE.
  it.each([['lite0', [2, 3, 97, 131]], ['v2_s', [1, 3, 128, 96]], ['v2_b0', [2, 3, 75, 61]]] as const)(
    '%s gives the same bits at %j', async (variant, shape) => {
      const nets = await createNets({ variant, weights: createSyntheticWeights({ variant, seed: 15 }) }, THREAD_COUNTS);
      try {
        expectAllEqual(await hashes(nets, [...shape], 11));
      } finally {
        for (const net of nets.values()) net.dispose();
      }
    });
});

describe('the browsers\' way in Node: a worker coordinates and this thread only awaits', () => {
  it('gives the one-thread bits for every output, with and without hooks', async () => {
    const network = buildNetwork('b0');
    const file = parseSafetensors(createSyntheticWeights({ variant: 'b0', seed: 14 }));
    const load = (threads: number) => WasmEngine.load(file, foldingRecipe(network), 1e-3, { threads, coordinator: 'worker' });
    const [one, three] = [await load(1), await load(3)];
    try {
      expect(three.threading).toEqual({ threads: 3 });
      const shape: [number, number, number, number] = [2, 3, 75, 61];
      const program = buildProgram(network, 'same', shape, { probabilities: true, featureMaps: true });
      const input = randomFloats(mulberry32(10), 2 * 3 * 75 * 61, 2); // [2, 3, 75, 61]
      const outputs = async (engine: Engine.WasmEngine, hooked: boolean) => {
        const checkpoints: string[] = [];
        const result = await engine.run(program, input, hooked ? { onCheckpoint: (c, data) => checkpoints.push(`${c.module} ${sha256(data)}`) } : {});
        return [result.logits, result.features, result.probabilities!, ...result.featureMaps].map(sha256).concat(checkpoints);
      };
      const expected = await outputs(one, true);
      expect(expected.length).toBeGreaterThan(20);
      expect(await outputs(three, false)).toEqual(expected.slice(0, 3 + program.featureMaps.length));
      expect(await outputs(three, true)).toEqual(expected);
    } finally {
      one.dispose();
      three.dispose();
    }
  });
});
