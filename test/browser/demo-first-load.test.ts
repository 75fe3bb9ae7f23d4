/**
 * The demo page as a visitor first sees it and the states that used to mislead: a photo is
 * classified on load (the Top 5 card is never empty, on screen as well as in the DOM), an error
 * replaces the results it would otherwise stand beside, the "from a file" radio changes nothing
 * until a file is chosen, and blocks are named one way (timm's `blocks.N`, the paper's stage in words).
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { decodeImage } from '../../src/image/decode.js';
import { useDemoInChromium } from '../support/browser.js';

const demo = useDemoInChromium();

async function settled(page: Page): Promise<string> {
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]');
  return (await page.getAttribute('body', 'data-state'))!;
}

/** Distinct colours among the screenshot pixels of one element: a blank card has one or two. */
async function coloursOnScreen(page: Page, selector: string): Promise<number> {
  const { data, width, height } = await decodeImage(await page.locator(selector).screenshot()); // data: [h, w, 3]
  const colours = new Set<number>();
  for (let p = 0; p < width * height; p++) colours.add((data[p * 3] << 16) | (data[p * 3 + 1] << 8) | data[p * 3 + 2]);
  return colours.size;
}

describe('the demo page on first load', () => {
  it('shows a photo with its top 5 without any interaction, and says the weights are synthetic', async () => {
    const { page, errors } = await demo.openDemoPage();
    expect(await settled(page), await page.innerText('#error').catch(() => '')).toBe('done');
    expect(await page.getAttribute('#preview', 'src')).toBe('../data/images/panda.jpg');
    expect(await page.isVisible('#preview')).toBe(true);
    expect(await page.locator('#top5 li').count()).toBe(5);
    expect(await page.isVisible('#synthetic-warning')).toBe(true);
    expect(await page.isVisible('#error')).toBe(false);
    // On screen, not only in the DOM: the card's pixels hold labels and bars (a blank card is one colour).
    expect(await coloursOnScreen(page, '#top5')).toBeGreaterThan(10);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps its model when the file radio is picked with no file, and replaces results by an error', async () => {
    const { page } = await demo.openDemoPage();
    await settled(page);
    const before = await page.locator('#top5 li').allInnerTexts();
    const status = await page.innerText('#model-status');
    await page.check('input[name="weights"][value="file"]');
    expect(await page.getAttribute('body', 'data-state')).toBe('done');
    expect(await page.isVisible('#error')).toBe(false);
    expect(await page.locator('#top5 li').allInnerTexts()).toEqual(before);
    expect(await page.innerText('#model-status')).toMatch(/^choose a weights file/);
    // Changing another choice meanwhile still runs on the synthetic weights, without an error.
    await page.evaluate(() => document.body.setAttribute('data-state', 'busy'));
    await page.selectOption('#threads', 'auto');
    expect(await settled(page)).toBe('done');
    expect(await page.innerText('#model-status')).toContain(status.split(':')[0].split(',')[0]);

    await page.setInputFiles('#weights-file', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a checkpoint') });
    await page.waitForSelector('body[data-state="error"]');
    expect(await page.innerText('#error')).toMatch(/^WeightsFormatError: /);
    expect(await page.locator('#top5 li').count()).toBe(0);
    expect(await page.isVisible('#feature-maps')).toBe(false);
    expect(await page.isVisible('#synthetic-warning')).toBe(false);
    expect(await page.innerText('#latency')).toBe('');
    expect(await page.innerText('#model-status')).toBe('no model loaded: see the error below');
    await page.close();
  });

  it('names blocks one way: timm\'s blocks.N, with the paper\'s stage in words', async () => {
    const { page } = await demo.openDemoPage();
    await settled(page);
    await page.click('#inside summary');
    await page.waitForSelector('#inside[data-state="done"], #inside[data-state="error"]');
    const captions = await page.locator('#stage-maps figcaption').allInnerTexts();
    expect(captions.length).toBe(5);
    // B0: the last block at stride 2 is blocks.0.0, the paper's stage 2; at stride 32, blocks.6.0, its stage 8.
    expect(captions[0]).toMatch(/^blocks\.0\.0 · stride 2\nthe paper's second stage\n/);
    expect(captions[4]).toMatch(/^blocks\.6\.0 · stride 32\nthe paper's eighth stage\n/);
    for (const text of captions) expect(text).not.toMatch(/^stage \d/m);
    const tableNames = (await page.locator('#feature-maps tbody tr').allInnerTexts()).map((row) => row.split('\t')[0]);
    expect(tableNames.every((name) => /^blocks\.\d+\.\d+$/.test(name))).toBe(true);
    await page.close();
  });
});
