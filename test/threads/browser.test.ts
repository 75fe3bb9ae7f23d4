/**
 * Threads in real headless Chromium, on the cross-origin isolated demo page (`efficientnet demo`
 * serves it with COOP/COEP): Web Workers share the memory, a worker coordinates (the page's main
 * thread never blocks), and the outputs have the bits of one thread in the page and in Node.
 * Uses the built package (`npm run build`, which `npm test` runs first).
 */
import { describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { DETERMINISTIC_INPUT_SOURCE, deterministicInput, useDemoInChromium } from '../support/browser.js';
import { sha256 } from '../support/hash.js';

const demo = useDemoInChromium();

const SHAPE = [2, 3, 83, 97] as const;
const WEIGHTS_SEED = 16;
const INPUT_SEED = 4;

interface PageResult {
  readonly capabilities: { threads: number; reason?: string };
  readonly runs: { threads: number; reason?: string; logits: string; checkpoints: string }[];
}

describe('threads in Chromium', () => {
  it('run on Web Workers with the bits of one thread, in the page and in Node', async () => {
    const { page, errors } = await demo.openDemoPage();
    await page.waitForSelector('body[data-state="done"]'); // loaded, and the photo shown first classified
    const result: PageResult = await page.evaluate(async ({ shape, weightsSeed, inputSeed, inputSource }) => {
      const library = (window as unknown as { efficientnet: typeof import('../../src/index.js') }).efficientnet;
      const makeInput = new Function(`return ${inputSource};`)() as (length: number, seed: number) => Float32Array;
      const hex = async (data: Float32Array): Promise<string> => {
        const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength));
        return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
      };
      const weights = library.createSyntheticWeights({ variant: 'b0', seed: weightsSeed });
      const input = makeInput(shape.reduce((a, b) => a * b, 1), inputSeed);
      const runs = [];
      for (const threads of [1, 2, 3]) {
        const net = await library.EfficientNet.create({ variant: 'b0', weights, threads });
        const { logits } = await net.forward(input, [...shape]);
        // With hooks every step is its own run through the workers.
        const seen: string[] = [];
        await net.forward(input, [...shape], { onCheckpoint: (c) => seen.push(c.module) });
        runs.push({ ...net.threading, logits: await hex(logits), checkpoints: seen.join(' ') });
        net.dispose();
      }
      return { capabilities: await library.EfficientNet.capabilities(), runs };
    }, { shape: [...SHAPE], weightsSeed: WEIGHTS_SEED, inputSeed: INPUT_SEED, inputSource: DETERMINISTIC_INPUT_SOURCE });

    const net = await EfficientNet.create({ variant: 'b0', weights: createSyntheticWeights({ variant: 'b0', seed: WEIGHTS_SEED }) });
    const { logits } = await net.forward(deterministicInput(SHAPE.reduce((a, b) => a * b, 1), INPUT_SEED), [...SHAPE]);
    net.dispose();
    const inNode = sha256(logits);

    expect(result.capabilities.reason).toBeUndefined();
    expect(result.capabilities.threads).toBeGreaterThanOrEqual(1);
    expect(result.runs.map((r) => [r.threads, r.reason])).toEqual([[1, undefined], [2, undefined], [3, undefined]]);
    for (const run of result.runs) expect(run.logits, `${run.threads} threads`).toBe(inNode);
    expect(result.runs[0].checkpoints.split(' ').length).toBeGreaterThan(10);
    for (const run of result.runs) expect(run.checkpoints).toBe(result.runs[0].checkpoints);
    expect(errors).toEqual([]);
    await page.close();
  });
});
