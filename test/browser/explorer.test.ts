/**
 * The demo's compound-scaling explorer in headless Chromium: open it, move φ with the keyboard,
 * read the counts the page shows and compare them with `efficientnet summary --phi` for the same
 * φ; check α·β²·γ² follows the knobs, the single-axis matches are the library's, a forward pass is
 * timed in the page, and the section shows on screen.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { decodeImage } from '../../src/image/decode.js';
import { scaleOneAxis, summarizeCompoundScaling } from '../../src/scaling-summary.js';
import { useDemoInChromium } from '../support/browser.js';
import { runCli } from '../support/cli.js';

/** Set it to keep the screenshot for a look; by default it goes to a temporary directory removed afterwards. */
const KEPT_SCREENSHOT_DIR = process.env.EXPLORER_SCREENSHOT_DIR;

const demo = useDemoInChromium();
const screenshotDir = KEPT_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'efficientnet-explorer-'));

afterAll(() => {
  if (KEPT_SCREENSHOT_DIR === undefined) rmSync(screenshotDir, { recursive: true, force: true });
});

/** The exact value behind a shown number (`data-value`). */
const shown = async (page: Page, id: string): Promise<number> => Number(await page.getAttribute(`#${id}`, 'data-value'));

async function openExplorer(page: Page): Promise<void> {
  await page.click('#explorer summary');
  await page.waitForSelector('#explorer[data-state="ready"]');
}

describe('the compound-scaling explorer of the demo page', () => {
  it('shows for each φ the network `summary --phi` describes, draws it, times it and shows on screen', async () => {
    const { page, errors } = await demo.openDemoPage();
    // Closed, it has built nothing.
    expect(await page.getAttribute('#explorer', 'data-state')).toBe('closed');
    await openExplorer(page);
    expect(await page.inputValue('#phi')).toBe('1');

    // Move φ from 1 to 2 with the keyboard, one step (0.1) at a time, as a visitor would.
    await page.focus('#phi');
    for (let step = 0; step < 10; step++) await page.keyboard.press('ArrowRight');
    expect(await page.inputValue('#phi')).toBe('2');
    expect(await page.innerText('#phi-value')).toBe('2.0');

    const cli = runCli(['summary', '--phi', '2', '--json']);
    expect(cli.status, cli.stderr).toBe(0);
    const expected = JSON.parse(cli.stdout) as Record<string, number>;
    // The page computes with the same library in another engine: integers must agree exactly, and the
    // multipliers (1.2^2, 1.1^2 through Math.pow) to the last bits of a double.
    expect(await shown(page, 'explorer-depth')).toBeCloseTo(expected.depth, 12);
    expect(await shown(page, 'explorer-width')).toBeCloseTo(expected.width, 12);
    expect(await shown(page, 'explorer-resolution')).toBe(expected.resolution);
    expect(await shown(page, 'explorer-params')).toBe(expected.params);
    expect(await shown(page, 'explorer-macs')).toBe(expected.macs);
    expect(await shown(page, 'explorer-activations')).toBe(expected.activationBytes);
    expect(await page.innerText('#explorer-resolution')).toBe(`${expected.resolution}×${expected.resolution}`);

    // The drawing is the library's network diagram of that network.
    await page.waitForSelector(`#explorer-network[data-blocks="${expected.blocks}"] svg`);
    expect(await page.locator('#explorer-network svg').count()).toBe(1);

    // The accuracy chart has the eight official points and a marker at this network's cost.
    expect(await page.locator('#accuracy-chart .official').count()).toBe(8);
    expect(await page.locator('#accuracy-chart .marker.current').count()).toBe(1);
    expect(await page.locator('#official-table tbody tr').allInnerTexts()).toHaveLength(8);
    // B7: the published accuracy, this library's counts at 600 pixels, then the paper's own rounded ones.
    expect(await page.innerText('#official-table tbody tr[data-variant="b7"]')).toMatch(/^B7\s+84\.3%\s+600\s+66\.35 M\s+37\.7 G\s+66M, 37B\s/);

    // A forward pass is timed in the page, at a quarter of the side.
    await page.waitForSelector('#explorer-measure[data-state="done"], #explorer-measure[data-state="error"]', { timeout: 60_000 });
    expect(await page.getAttribute('#explorer-measure', 'data-state'), await page.innerText('#measure-status')).toBe('done');
    const side = Number(await page.getAttribute('#measured-current', 'data-side'));
    expect(side).toBe(Math.round(expected.resolution / 4));
    const milliseconds = Number(await page.getAttribute('#measured-current', 'data-milliseconds'));
    expect(Number.isFinite(milliseconds) && milliseconds > 0).toBe(true);
    expect(await page.locator('#timing-chart .current').count()).toBe(1);

    // On screen: the section's pixels hold the knobs, the drawing and the charts.
    const file = join(screenshotDir, 'explorer-phi-2.png');
    const png = await page.locator('#explorer').screenshot();
    writeFileSync(file, png);
    const { data, width, height } = await decodeImage(png); // data: [h, w, 3]
    const colours = new Set<number>();
    for (let p = 0; p < width * height; p++) colours.add((data[p * 3] << 16) | (data[p * 3 + 1] << 8) | data[p * 3 + 2]);
    expect(colours.size).toBeGreaterThan(50);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows α·β²·γ² against 2 as the bases move, and refuses a network past the builder\'s limits', async () => {
    const { page, errors } = await demo.openDemoPage();
    await openExplorer(page);
    expect(await shown(page, 'cost-factor-value')).toBeCloseTo(1.2 * 1.1 ** 2 * 1.15 ** 2, 12);
    expect(await page.getAttribute('#cost-factor', 'data-verdict')).toBe('near');
    const setKnob = (id: string, value: string) => page.evaluate(([knob, v]) => {
      const input = document.getElementById(knob) as HTMLInputElement;
      input.value = v;
      input.dispatchEvent(new Event('input'));
    }, [id, value]);
    await setKnob('alpha', '1.5');
    expect(await shown(page, 'cost-factor-value')).toBeCloseTo(1.5 * 1.1 ** 2 * 1.15 ** 2, 12);
    expect(await page.getAttribute('#cost-factor', 'data-verdict')).toBe('over');
    const cli = JSON.parse(runCli(['summary', '--phi', '1', '--alpha', '1.5', '--json']).stdout) as Record<string, number>;
    expect(await shown(page, 'explorer-params')).toBe(cli.params);
    expect(await shown(page, 'explorer-macs')).toBe(cli.macs);
    await page.click('#paper-bases');
    expect(await page.inputValue('#alpha')).toBe('1.2');
    // φ 8 with β 2 asks for width 256, beyond the 64 the builder takes: a typed error, the last network kept.
    await setKnob('beta', '2');
    await setKnob('phi', '8');
    expect(await page.getAttribute('#explorer', 'data-state')).toBe('error');
    expect(await page.innerText('#explorer-error')).toMatch(/^ConfigError: phi 8 gives width 256, above the largest 64 .*lower phi or beta/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('scales one knob alone to the cost of φ = 1, 2, 3 in one click, with the library\'s numbers', async () => {
    const { page, errors } = await demo.openDemoPage();
    await openExplorer(page);
    for (const axis of ['width', 'depth', 'resolution'] as const) {
      await page.click(`#single-axis-buttons button[data-axis="${axis}"]`);
      expect(await page.getAttribute('#single-axis-table', 'data-axis')).toBe(axis);
      const macs = await page.locator('#single-axis-table tbody tr').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.macs)));
      expect(macs).toEqual([1, 2, 3].map((phi) => scaleOneAxis(axis, summarizeCompoundScaling({ phi }).macs).macs));
      expect(await page.locator('#accuracy-chart .marker.single').count()).toBe(3);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('times the official B0-B7 on request and plots them beside the explored network', async () => {
    const { page, errors } = await demo.openDemoPage();
    await openExplorer(page);
    await page.click('#measure-official');
    await page.waitForSelector('#official-table[data-measured="all"], #explorer-measure[data-state="error"]', { timeout: 240_000 });
    expect(await page.getAttribute('#explorer-measure', 'data-state'), await page.innerText('#measure-status')).not.toBe('error');
    const measured = await page.locator('#official-table tbody tr td:last-child').allInnerTexts();
    // Each at a quarter of its own side: B0 224 -> 56 … B7 600 -> 150.
    expect(measured.map((text) => /at (\d+)×/.exec(text)?.[1])).toEqual(['56', '60', '65', '75', '95', '114', '132', '150']);
    expect(await page.locator('#timing-chart .official').count()).toBe(8);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
