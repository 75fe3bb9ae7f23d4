/**
 * The demo's "inside the network" view in headless Chromium: after a photo is classified with
 * synthetic B0 weights, opening the view draws a heat-map per stage output and an SE gate chart
 * per block, read back as canvas pixels and as a page screenshot.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildNetwork } from '../../src/arch/network.js';
import { decodeImage, type RgbImage } from '../../src/image/decode.js';
import { useDemoInChromium } from '../support/browser.js';

/** Set it to keep the screenshot for a look; by default it goes to a temporary directory removed afterwards. */
const KEPT_SCREENSHOT_DIR = process.env.INSIDE_SCREENSHOT_DIR;

const demo = useDemoInChromium();
const screenshotDir = KEPT_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'efficientnet-inside-'));

afterAll(() => {
  if (KEPT_SCREENSHOT_DIR === undefined) rmSync(screenshotDir, { recursive: true, force: true });
});

/** One canvas of a figure: its RGBA pixels, its caption lines and where it sits on the page (CSS px). */
interface DrawnFigure {
  readonly module: string;
  readonly caption: string[];
  readonly width: number;
  readonly height: number;
  readonly rgba: number[]; // [height, width, 4]
  readonly box: Box;
}

interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

async function drawnFigures(page: Page, selector: string): Promise<DrawnFigure[]> {
  return page.locator(selector).evaluateAll((figures) => figures.map((figure) => {
    const canvas = figure.querySelector('canvas')!;
    const rect = canvas.getBoundingClientRect();
    return {
      module: (figure as HTMLElement).dataset.module ?? '',
      caption: Array.from(figure.querySelectorAll('figcaption > *'), (line) => line.textContent ?? ''),
      width: canvas.width,
      height: canvas.height,
      rgba: Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data),
      // Page coordinates, to find the figure in a full-page screenshot.
      box: { x: rect.left + window.scrollX, y: rect.top + window.scrollY, width: rect.width, height: rect.height },
    };
  }));
}

function variance(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
}

/** Luminance-like sum of the opaque pixels of an RGBA canvas (the gaps between tiles are transparent). */
function opaqueBrightness(figure: DrawnFigure): number[] {
  const values: number[] = [];
  for (let p = 0; p < figure.width * figure.height; p++) {
    if (figure.rgba[p * 4 + 3] === 255) values.push(figure.rgba[p * 4] + figure.rgba[p * 4 + 1] + figure.rgba[p * 4 + 2]);
  }
  return values;
}

/** Per column of a chart canvas, how many pixels are drawn on (any alpha): the bar heights, in device pixels. */
function columnHeights(figure: DrawnFigure): number[] {
  const heights = new Array<number>(figure.width).fill(0);
  for (let p = 0; p < figure.width * figure.height; p++) {
    if (figure.rgba[p * 4 + 3] > 0) heights[p % figure.width]++;
  }
  return heights;
}

/** Summed R+G+B of the screenshot pixels inside `box` (CSS px scaled by the device pixel ratio). */
function screenshotBrightness(image: RgbImage, box: Box, scale: number): number[] {
  const values: number[] = [];
  const left = Math.round(box.x * scale);
  const top = Math.round(box.y * scale);
  const right = Math.min(image.width, Math.round((box.x + box.width) * scale));
  const bottom = Math.min(image.height, Math.round((box.y + box.height) * scale));
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) {
      const i = (y * image.width + x) * 3;
      values.push(image.data[i] + image.data[i + 1] + image.data[i + 2]);
    }
  }
  return values;
}

describe('the inside view of the demo page', () => {
  it('draws a non-uniform heat-map per stage output and a gate chart per block, and they show on screen', async () => {
    const { page, errors } = await demo.openDemoPage();
    await page.waitForSelector('body[data-state="done"]'); // the photo shown on load, classified
    await page.click('button[data-photo="grace_hopper.jpg"]');
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]');
    if ((await page.getAttribute('body', 'data-state')) === 'error') throw new Error(await page.innerText('#error'));

    // Closed, the view has its photo but has not run the extra pass.
    expect(await page.getAttribute('#inside', 'data-state')).toBe('pending');
    expect(await page.locator('#inside figure').count()).toBe(0);
    await page.click('#inside summary');
    await page.waitForSelector('#inside[data-state="done"], #inside[data-state="error"]');
    expect(await page.getAttribute('#inside', 'data-state'), await page.innerText('#inside-status')).toBe('done');

    // The default preset is B0: one chart per block, in order, each with the block's expanded width of gates.
    const network = buildNetwork('b0');
    const charts = await drawnFigures(page, '#se-gates figure');
    expect(charts.map((c) => c.module)).toEqual(network.blocks.map((b) => b.name));
    for (const [i, chart] of charts.entries()) {
      expect(chart.caption[0]).toBe(network.blocks[i].name);
      expect(chart.caption[1]).toMatch(new RegExp(`^${network.blocks[i].expandedChannels} gates, `));
      const heights = columnHeights(chart);
      expect(heights.some((h) => h > 0), chart.module).toBe(true);
      // Gates differ between channels (they depend on the photo and the weights), so bar heights vary.
      expect(variance(heights), chart.module).toBeGreaterThan(0);
    }

    // The stage maps come from the forward hooks; the table above them from `features()`: same blocks and shapes.
    const table = (await page.locator('#feature-maps tbody tr').allInnerTexts()).map((row) => row.split('\t'));
    const maps = await drawnFigures(page, '#stage-maps figure');
    expect(maps.map((m) => [m.module, m.caption[2]])).toEqual(table.map(([name, , size]) => [name, size]));
    expect(maps.map((m) => m.caption[0].replace(/^.* · /, ''))).toEqual(table.map(([, stride]) => `stride ${stride}`));
    for (const map of maps) {
      const brightness = opaqueBrightness(map);
      expect(brightness.length, map.module).toBeGreaterThan(0);
      expect(variance(brightness), map.module).toBeGreaterThan(0);
    }

    // On screen: every figure's canvas region of a full-page screenshot has more than one colour.
    mkdirSync(screenshotDir, { recursive: true });
    const path = join(screenshotDir, 'inside.png');
    await page.screenshot({ path, fullPage: true });
    const screenshot = await decodeImage(new Uint8Array(readFileSync(path)));
    const scale = await page.evaluate(() => window.devicePixelRatio);
    for (const figure of [...maps, ...charts]) {
      expect((figure.box.y + figure.box.height) * scale, figure.module).toBeLessThanOrEqual(screenshot.height);
      const pixels = screenshotBrightness(screenshot, figure.box, scale);
      expect(pixels.length, figure.module).toBeGreaterThan(0);
      expect(variance(pixels), figure.module).toBeGreaterThan(0);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows gate charts only where the network has SE: none for Lite0, the MBConv blocks of V2-B0', async () => {
    const { page, errors } = await demo.openDemoPage();
    await page.waitForSelector('body[data-state="done"]');
    await page.click('#inside summary');
    await page.waitForSelector('#inside[data-state="done"], #inside[data-state="error"]');
    for (const variant of ['lite0', 'v2_b0'] as const) {
      const network = buildNetwork(variant);
      const gated = network.blocks.filter((b) => b.seChannels > 0).length;
      await page.selectOption('#architecture', `variant:${variant}`);
      // Done with this model's pass: the previous model's charts (B0's 16, then none) are replaced.
      await page.waitForFunction((count) => document.querySelector('#inside')?.getAttribute('data-state') !== 'busy' &&
        document.querySelectorAll('#se-gates figure').length === count && document.querySelectorAll('#stage-maps figure').length > 0, gated);
      expect(await page.getAttribute('#inside', 'data-state'), await page.innerText('#inside-status')).toBe('done');
      const charts = await drawnFigures(page, '#se-gates figure');
      expect(charts.map((c) => c.module), variant).toEqual(network.blocks.filter((b) => b.seChannels > 0).map((b) => b.name));
      if (charts.length === 0) expect(await page.innerText('#inside-status')).toMatch(/no squeeze-and-excitation gates/);
      expect((await drawnFigures(page, '#stage-maps figure')).length, variant).toBe(5); // strides 2 to 32
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
