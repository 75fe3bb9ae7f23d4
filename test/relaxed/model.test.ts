/**
 * The opt-in relaxed-SIMD build, run where relaxed SIMD is on (the `relaxed-simd` project in
 * vitest.config.ts starts these workers with --experimental-wasm-relaxed-simd on Node 20).
 * The same project re-runs the GEMM and stem-conv kernel sweeps against this build.
 *
 * Uses the built package in `dist/` (threads need the built worker), like the thread tests.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Library from '../../src/index.js';
import { createTestCore, TEST_CORE_BUILD } from '../support/core.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { sha256 } from '../support/hash.js';
import { RELAXED_LOGITS_RELATIVE_TOLERANCE } from '../support/tolerance.js';

const built = async <T>(path: string): Promise<T> => (await import(new URL(`../../dist/${path}`, import.meta.url).href)) as T;
const { EfficientNet, createSyntheticWeights } = await built<typeof Library>('index.js');
type Net = Library.EfficientNet;

const weights = createSyntheticWeights({ variant: 'b0', seed: 7 });
const shape = [2, 3, 64, 80] as const;
const input = randomFloats(mulberry32(11), shape.reduce((a, b) => a * b, 1), 2); // [2, 3, 64, 80]

let deterministic: Net;
let relaxed: Net;
let relaxedTwoThreads: Net;

beforeAll(async () => {
  deterministic = await EfficientNet.create({ variant: 'b0', weights });
  relaxed = await EfficientNet.create({ variant: 'b0', weights, simd: 'relaxed' });
  relaxedTwoThreads = await EfficientNet.create({ variant: 'b0', weights, simd: 'relaxed', threads: 2 });
});

afterAll(() => {
  for (const net of [deterministic, relaxed, relaxedTwoThreads]) net?.dispose();
});

describe('the relaxed-SIMD build', () => {
  it('is what this project runs: the kernel suites get the relaxed core, and it says so', async () => {
    expect(TEST_CORE_BUILD).toBe('relaxed');
    const core = await createTestCore();
    expect(Number((core.exports.RELAXED_SIMD as WebAssembly.Global).value)).toBe(1);
    expect(EfficientNet.simdCapabilities()).toEqual({ mode: 'relaxed' });
  });

  it('runs a model that reports it, and a default model stays deterministic', () => {
    expect(relaxed.simd).toEqual({ mode: 'relaxed' });
    expect(relaxedTwoThreads.simd).toEqual({ mode: 'relaxed' });
    expect(relaxedTwoThreads.threading).toEqual({ threads: 2 });
    expect(deterministic.simd).toEqual({ mode: 'deterministic' });
  });

  it('gives logits within 1e-4 of the largest logit of the deterministic build', async () => {
    const exact = (await deterministic.forward(input, shape)).logits;
    const fused = (await relaxed.forward(input, shape)).logits;
    const scale = exact.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(0);
    let worst = 0;
    for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(fused[i] - exact[i]));
    expect(worst / scale).toBeLessThanOrEqual(RELAXED_LOGITS_RELATIVE_TOLERANCE);
  });

  it('gives the same bits on one and two threads (the work units do not depend on the count)', async () => {
    const one = await relaxed.forward(input, shape);
    const two = await relaxedTwoThreads.forward(input, shape);
    expect(sha256(two.logits)).toBe(sha256(one.logits));
    expect(sha256(two.features)).toBe(sha256(one.features));
  });

  it('reports, rather than hides, a deterministic core given explicitly', async () => {
    const wasm = fileURLToPath(new URL('../../build/efficientnet.wasm', import.meta.url));
    const net = await EfficientNet.create({ variant: 'b0', weights, simd: 'relaxed', wasm });
    try {
      expect(net.simd.mode).toBe('deterministic');
      expect(net.simd.reason).toMatch(/given in the options is the deterministic build/);
    } finally {
      net.dispose();
    }
  });
});
