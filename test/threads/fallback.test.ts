/**
 * When threads cannot run, a model still works on one thread and says why; bad thread options
 * are refused up front. Each fallback here is forced the way a user could meet it: a threaded
 * core that is not one, or bytes that are not WebAssembly at all.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { ConfigError } from '../../src/errors.js';
import { MAX_THREADS } from '../../src/runtime/threads/core.js';
import { defaultCoordinator } from '../../src/runtime/threads/pool.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { expectSameBits } from '../support/tolerance.js';

const weights = createSyntheticWeights({ variant: 'b0', seed: 21 });
const singleThreadedCore = readFileSync(new URL('../../build/efficientnet.wasm', import.meta.url));
const shape = [1, 3, 64, 64];
const input = randomFloats(mulberry32(1), 3 * 64 * 64, 2); // [1, 3, 64, 64]

describe('falling back to one thread', () => {
  it('reports a threaded core without shared memory, and still computes the one-thread bits', async () => {
    const net = await EfficientNet.create({ variant: 'b0', weights, threads: 2, threadsWasm: singleThreadedCore });
    const plain = await EfficientNet.create({ variant: 'b0', weights });
    try {
      expect(net.threads).toBe(1);
      expect(net.threading.reason).toMatch(/does not import a shared memory/);
      expect(plain.threading).toEqual({ threads: 1 });
      expectSameBits((await net.forward(input, shape)).logits, (await plain.forward(input, shape)).logits, 'logits');
    } finally {
      net.dispose();
      plain.dispose();
    }
  });

  it('reports a threaded core that does not compile', async () => {
    const net = await EfficientNet.create({ variant: 'b0', weights, threads: 2, threadsWasm: new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]) });
    expect(net.threading.threads).toBe(1);
    expect(net.threading.reason).toMatch(/could not be loaded or compiled/);
    net.dispose();
  });

  it('reports that the reference backend runs on one thread', async () => {
    const net = await EfficientNet.create({ variant: 'b0', weights, backend: 'reference', threads: 4 });
    expect(net.threading).toEqual({ threads: 1, reason: 'the reference backend runs on one thread' });
    net.dispose();
  });

  it('says nothing when one thread was asked for', async () => {
    const net = await EfficientNet.create({ variant: 'b0', weights, threads: 1, threadsWasm: singleThreadedCore });
    expect(net.threading).toEqual({ threads: 1 });
    net.dispose();
  });
});

describe('thread options', () => {
  it('refuses counts that are not an integer from 1 to MAX_THREADS', async () => {
    for (const threads of [0, -1, 1.5, MAX_THREADS + 1, Number.NaN, 'many']) {
      await expect(EfficientNet.create({ variant: 'b0', weights, threads: threads as number }), String(threads)).rejects.toThrow(ConfigError);
    }
  });
});

describe('EfficientNet.capabilities', () => {
  it('offers one thread per core in Node, up to MAX_THREADS', async () => {
    expect(await EfficientNet.capabilities()).toEqual({ threads: Math.min(MAX_THREADS, availableParallelism()) });
  });
  it('says why when the threaded core is unusable', async () => {
    const report = await EfficientNet.capabilities({ threadsWasm: singleThreadedCore });
    expect(report.threads).toBe(1);
    expect(report.reason).toMatch(/does not import a shared memory/);
  });
});

describe('the coordinating thread', () => {
  it('is this one where it may block, as Node\'s main thread may (browsers\' main threads are covered in browser.test.ts)', () => {
    expect(defaultCoordinator()).toBe('host');
  });
});
