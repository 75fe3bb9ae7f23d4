/**
 * The opt-in relaxed-SIMD build in headless Chromium, which has relaxed SIMD on: the page can run
 * it on one thread and on Web Workers, it reports itself, its logits stay within the tolerance of
 * the deterministic build's, and its thread counts agree bit for bit.
 * Uses the built package (`npm run build`, which `npm test` runs first).
 */
import { describe, expect, it } from 'vitest';
import { DETERMINISTIC_INPUT_SOURCE, useDemoInChromium } from '../support/browser.js';
import { RELAXED_LOGITS_RELATIVE_TOLERANCE } from '../support/tolerance.js';

const demo = useDemoInChromium();

interface PageResult {
  readonly capabilities: { mode: string; reason?: string };
  readonly runs: { simd: { mode: string; reason?: string }; threads: number; logits: number[] }[];
}

describe('relaxed SIMD in Chromium', () => {
  it('runs on one and two threads, agrees with the deterministic build, and says which build ran', async () => {
    const { page, errors } = await demo.openDemoPage();
    await page.waitForSelector('body[data-state="done"]'); // loaded, and the photo shown first classified
    const result: PageResult = await page.evaluate(async ({ inputSource }) => {
      const library = (window as unknown as { efficientnet: typeof import('../../src/index.js') }).efficientnet;
      const makeInput = new Function(`return ${inputSource};`)() as (length: number, seed: number) => Float32Array;
      const weights = library.createSyntheticWeights({ variant: 'b0', seed: 21 });
      const shape = [1, 3, 72, 64];
      const input = makeInput(shape.reduce((a, b) => a * b, 1), 5);
      const runs = [];
      for (const options of [{}, { simd: 'relaxed' as const }, { simd: 'relaxed' as const, threads: 2 }]) {
        const net = await library.EfficientNet.create({ variant: 'b0', weights, ...options });
        const { logits } = await net.forward(input, shape);
        runs.push({ simd: net.simd, threads: net.threading.threads, logits: Array.from(logits) });
        net.dispose();
      }
      return { capabilities: library.EfficientNet.simdCapabilities(), runs };
    }, { inputSource: DETERMINISTIC_INPUT_SOURCE });

    expect(result.capabilities).toEqual({ mode: 'relaxed' });
    const [deterministic, relaxed, relaxedThreads] = result.runs;
    expect(deterministic.simd).toEqual({ mode: 'deterministic' });
    expect(relaxed.simd).toEqual({ mode: 'relaxed' });
    expect([relaxedThreads.simd, relaxedThreads.threads]).toEqual([{ mode: 'relaxed' }, 2]);

    const scale = deterministic.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(0);
    const worst = deterministic.logits.reduce((m, v, i) => Math.max(m, Math.abs(v - relaxed.logits[i])), 0);
    expect(worst / scale).toBeLessThanOrEqual(RELAXED_LOGITS_RELATIVE_TOLERANCE);
    expect(relaxedThreads.logits).toEqual(relaxed.logits);
    expect(errors).toEqual([]);
  });
});
