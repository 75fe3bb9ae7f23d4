/**
 * The library in real headless Chromium, served by `efficientnet demo`'s server: the demo page
 * works end to end, and decoding, preprocessing and `forward` give the same bits as in Node
 * (compared as SHA-256 hashes of the bytes, not with a tolerance).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import type { VariantName } from '../../src/arch/variants.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { DETERMINISTIC_INPUT_SOURCE, deterministicInput, useDemoInChromium } from '../support/browser.js';
import type { Page } from 'playwright-core';
import { sha256 } from '../support/hash.js';

const demo = useDemoInChromium();
const workdir = mkdtempSync(join(tmpdir(), 'efficientnet-browser-'));

afterAll(() => rmSync(workdir, { recursive: true, force: true }));

/** Opens the demo page and waits until it has loaded and classified the photo it shows first. */
async function openDemo(): Promise<{ page: Page; errors: string[] }> {
  const opened = await demo.openDemoPage();
  await waitForResults(opened.page);
  return opened;
}

/** Waits for the page to finish a classification; an error state fails with the page's message. */
async function waitForResults(page: Page): Promise<void> {
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]');
  if ((await page.getAttribute('body', 'data-state')) === 'error') throw new Error(await page.innerText('#error'));
}

async function topFive(page: Page): Promise<string[]> {
  return page.locator('#top5 li').allInnerTexts();
}

describe('the demo page in Chromium', () => {
  it('is cross-origin isolated and exposes the library as window.efficientnet', async () => {
    const { page, errors } = await openDemo();
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => typeof (window as unknown as { efficientnet: { EfficientNet: unknown } }).efficientnet.EfficientNet)).toBe('function');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('classifies a bundled photo with synthetic weights: five labelled bars, latency, feature maps', async () => {
    const { page, errors } = await openDemo();
    await page.click('button[data-photo="grace_hopper.jpg"]');
    await waitForResults(page);
    const bars = page.locator('#top5 li .bar');
    expect(await bars.count()).toBe(5);
    const widths = await bars.evaluateAll((elements) => elements.map((e) => Number((e as HTMLElement).style.getPropertyValue('--probability'))));
    expect(widths.every((p) => p > 0 && p <= 1)).toBe(true);
    expect(widths).toEqual([...widths].sort((a, b) => b - a)); // most probable first
    expect(await page.isVisible('#synthetic-warning')).toBe(true);
    expect(await page.innerText('#latency')).toMatch(/\d+(\.\d+)? ms/);
    // B0 at 224 (the default preset): the last block at strides 2 … 32.
    const maps = await page.locator('#feature-maps tbody tr').allInnerTexts();
    expect(maps.map((row) => row.split('\t')[1])).toEqual(['2', '4', '8', '16', '32']);
    expect(maps[4]).toContain('320 x 7 x 7');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('loads a .safetensors file from disk and gets what the same weights made in the page give', async () => {
    const { page, errors } = await openDemo();
    await page.click('button[data-photo="panda.jpg"]');
    await waitForResults(page);
    const inPage = await topFive(page);
    // The page makes its synthetic weights with seed 0; this file holds the same weights.
    const file = join(workdir, 'b0-seed0.safetensors');
    writeFileSync(file, createSyntheticWeights({ variant: 'b0', seed: 0 }));
    await page.evaluate(() => document.body.setAttribute('data-state', 'busy'));
    // A path, not a buffer: Chromium reads the 21 MB file itself instead of receiving it over the wire.
    await page.setInputFiles('#weights-file', file);
    await waitForResults(page);
    expect(await page.innerText('#model-status')).toContain('EfficientNet-B0');
    expect(await topFive(page)).toEqual(inPage);
    // The file's metadata marks it synthetic, so the page still says so.
    expect(await page.isVisible('#synthetic-warning')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs on every core and on the relaxed build when asked, and says what it runs on', async () => {
    const { page, errors } = await openDemo();
    await page.click('button[data-photo="grace_hopper.jpg"]');
    await waitForResults(page);
    const oneThread = await topFive(page);
    expect(await page.innerText('#model-status')).toMatch(/, 1 thread, deterministic SIMD: ready/);

    await page.evaluate(() => document.body.setAttribute('data-state', 'busy'));
    await page.selectOption('#threads', 'auto');
    await waitForResults(page);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(await page.innerText('#model-status')).toContain(`, ${cores} thread${cores === 1 ? '' : 's'}, deterministic SIMD: ready`);
    expect(await topFive(page)).toEqual(oneThread); // the same bits on any thread count

    await page.evaluate(() => document.body.setAttribute('data-state', 'busy'));
    await page.check('#relaxed-simd');
    await waitForResults(page);
    expect(await page.innerText('#model-status')).toContain('relaxed SIMD: ready');
    expect(await page.locator('#top5 li .bar').count()).toBe(5);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a typed error for a file that is not safetensors', async () => {
    const { page } = await openDemo();
    await page.click('button[data-photo="chelsea.png"]');
    await waitForResults(page);
    await page.setInputFiles('#weights-file', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a checkpoint') });
    await page.waitForSelector('body[data-state="error"]');
    expect(await page.innerText('#error')).toMatch(/^WeightsFormatError: /);
    await page.close();
  });

  it('reads a PyTorch checkpoint picked in the page (a torchvision file of another width: named in the mismatch)', async () => {
    const { page } = await openDemo();
    await page.click('button[data-photo="chelsea.png"]');
    await waitForResults(page);
    await page.setInputFiles('#weights-file', fileURLToPath(new URL('../fixtures/torch/torchvision-zip.pth', import.meta.url)));
    await page.waitForSelector('body[data-state="error"]');
    expect(await page.innerText('#error')).toMatch(/^WeightsMismatchError: .*the file's shapes are those of no member of the family .*\(stem 8, head 320/);
    await page.close();
  });
});

interface ForwardCase {
  readonly variant: VariantName;
  readonly shape: readonly [number, number, number, number];
  readonly weightsSeed: number;
  readonly inputSeed: number;
}

interface ForwardHashes {
  readonly weights: string;
  readonly input: string;
  readonly logits: string;
  readonly features: string;
}

async function forwardInNode(c: ForwardCase): Promise<ForwardHashes> {
  const weights = createSyntheticWeights({ variant: c.variant, seed: c.weightsSeed });
  const input = deterministicInput(c.shape.reduce((a, b) => a * b, 1), c.inputSeed);
  const net = await EfficientNet.create({ variant: c.variant, weights });
  const { logits, features } = await net.forward(input, c.shape);
  net.dispose();
  return { weights: sha256(weights), input: sha256(input), logits: sha256(logits), features: sha256(features) };
}

/** The same steps in the page, with the library the demo loaded and the input built from the same source text. */
async function forwardInChromium(page: Page, c: ForwardCase): Promise<ForwardHashes> {
  return page.evaluate(async ({ c, inputSource }) => {
    const library = (window as unknown as { efficientnet: typeof import('../../src/index.js') }).efficientnet;
    const makeInput = new Function(`return ${inputSource};`)() as (length: number, seed: number) => Float32Array;
    const hex = async (bytes: Uint8Array | Float32Array): Promise<string> => {
      const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength));
      return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
    };
    const weights = library.createSyntheticWeights({ variant: c.variant, seed: c.weightsSeed });
    const input = makeInput(c.shape.reduce((a, b) => a * b, 1), c.inputSeed);
    const net = await library.EfficientNet.create({ variant: c.variant, weights });
    const { logits, features } = await net.forward(input, c.shape);
    net.dispose();
    return { weights: await hex(weights), input: await hex(input), logits: await hex(logits), features: await hex(features) };
  }, { c, inputSource: DETERMINISTIC_INPUT_SOURCE });
}

describe('forward in Chromium and in Node', () => {
  // B0 at its own resolution, a batch of two non-square images, and a wide variant at a small size;
  // Lite (ReLU6, no SE) and V2 (full 3x3 convs with a residual, fused-MBConv) at small sizes.
  const cases: ForwardCase[] = [
    { variant: 'b0', shape: [1, 3, 224, 224], weightsSeed: 11, inputSeed: 1 },
    { variant: 'b2', shape: [2, 3, 97, 131], weightsSeed: 22, inputSeed: 2 },
    { variant: 'b4', shape: [1, 3, 64, 64], weightsSeed: 33, inputSeed: 3 },
    { variant: 'lite0', shape: [1, 3, 96, 80], weightsSeed: 44, inputSeed: 4 },
    { variant: 'v2_s', shape: [1, 3, 64, 64], weightsSeed: 55, inputSeed: 5 },
  ];

  it('takes the core from the `wasm` option as a page-relative path, a URL or fetched bytes, with the same bits', async () => {
    const { page, errors } = await openDemo();
    const hashes = await page.evaluate(async (inputSource) => {
      const library = (window as unknown as { efficientnet: typeof import('../../src/index.js') }).efficientnet;
      const makeInput = new Function(`return ${inputSource};`)() as (length: number, seed: number) => Float32Array;
      const weights = library.createSyntheticWeights({ variant: 'b0', seed: 5 });
      const input = makeInput(3 * 40 * 56, 9);
      const logitsHash = async (wasm?: string | URL | Uint8Array): Promise<string> => {
        const net = await library.EfficientNet.create({ variant: 'b0', weights, wasm });
        const { logits } = await net.forward(input, [1, 3, 40, 56]);
        net.dispose();
        const digest = await crypto.subtle.digest('SHA-256', logits as Float32Array<ArrayBuffer>);
        return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
      };
      const url = new URL('../build/efficientnet.wasm', location.href);
      const missing = await library.EfficientNet.create({ variant: 'b0', weights, wasm: '../build/missing.wasm' }).catch((e: Error) => e);
      return {
        packaged: await logitsHash(),
        path: await logitsHash('../build/efficientnet.wasm'),
        url: await logitsHash(url),
        bytes: await logitsHash(new Uint8Array(await (await fetch(url)).arrayBuffer())),
        missing: `${(missing as Error).name}: ${(missing as Error).message}`,
      };
    }, DETERMINISTIC_INPUT_SOURCE);
    expect(hashes.packaged).toMatch(/^[0-9a-f]{64}$/);
    expect(hashes.path).toBe(hashes.packaged);
    expect(hashes.url).toBe(hashes.packaged);
    expect(hashes.bytes).toBe(hashes.packaged);
    expect(hashes.missing).toMatch(/^ConfigError: could not fetch the WebAssembly core from http:.*\/build\/missing\.wasm: HTTP 404$/);
    // The one expected failure: the browser logs the 404 of the missing core.
    expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
    await page.close();
  });

  it('decodes and preprocesses the bundled JPEG and PNG photos to the same input bits', async () => {
    const model = 'tf_efficientnet_b0.ns_jft_in1k';
    const photos = ['grace_hopper.jpg', 'chelsea.png'];
    const { page, errors } = await openDemo();
    const inChromium = await page.evaluate(async ({ model, photos }) => {
      const library = (window as unknown as { efficientnet: typeof import('../../src/index.js') }).efficientnet;
      const net = await library.EfficientNet.create({ model, weights: library.createSyntheticWeights({ variant: 'b0', seed: 1 }) });
      const hashes: string[] = [];
      for (const name of photos) {
        const bytes = new Uint8Array(await (await fetch(`../data/images/${name}`)).arrayBuffer());
        const { input } = await net.preprocessImages([bytes]);
        const digest = await crypto.subtle.digest('SHA-256', input as Float32Array<ArrayBuffer>);
        hashes.push(Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(''));
      }
      net.dispose();
      return hashes;
    }, { model, photos });
    const net = await EfficientNet.create({ model, weights: createSyntheticWeights({ variant: 'b0', seed: 1 }) });
    const inNode: string[] = [];
    for (const name of photos) {
      const bytes = readFileSync(fileURLToPath(new URL(`../../data/images/${name}`, import.meta.url)));
      inNode.push(sha256((await net.preprocessImages([new Uint8Array(bytes)])).input));
    }
    net.dispose();
    expect(inChromium).toEqual(inNode);
    expect(errors).toEqual([]);
    await page.close();
  });

  it.each(cases)('gives the same logits bytes: $variant at $shape', async (c) => {
    const { page, errors } = await openDemo();
    const inChromium = await forwardInChromium(page, c);
    const inNode = await forwardInNode(c);
    // Same weights and input first, so a logits mismatch can only come from the forward pass.
    expect(inChromium.weights).toBe(inNode.weights);
    expect(inChromium.input).toBe(inNode.input);
    expect(inChromium.logits).toBe(inNode.logits);
    expect(inChromium.features).toBe(inNode.features);
    expect(errors).toEqual([]);
    await page.close();
  });
});
