/**
 * The figures as a reader sees them: each SVG is put in an 800 px wide column (a README's width,
 * shown as an `<img>` with `max-width: 100%` shows it: never scaled up, scaled down if wider) in
 * headless Chromium, and what Chromium lays out is measured: every text's rendered font size,
 * every pair of texts (none may overlap), every box's rendered size, texts inside the figure and,
 * for the block figure, every step's text inside its box. A screenshot of each is saved, and the
 * stage boxes' colours are read back from it at their centres, so they are on screen, not only in the DOM.
 * On Debian, Chromium's system-ui is DejaVu Sans, one of the wider sans-serif faces, so room that
 * fits it fits the usual others.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildNetwork } from '../../src/arch/network.js';
import { VARIANT_NAMES } from '../../src/arch/variants.js';
import { blockDiagram, representativeBlocks } from '../../src/diagram/block-diagram.js';
import { MIN_BOX_HEIGHT, MIN_BOX_WIDTH, networkDiagram } from '../../src/diagram/network-diagram.js';
import { decodeImage } from '../../src/image/decode.js';
import { launchChromium, type Browser } from '../support/browser.js';

/** CSS px: the column a README gives a figure. */
const README_WIDTH = 800;
/**
 * Smallest rendered font size allowed, in CSS px. 11 px is about the smallest size commonly held
 * readable for figure labels on screen; the old network figure drew its SE markers at 8 px and its
 * labels at 11 px in a 1,221 px wide figure, which an 800 px column shrinks to 5.2 and 7.2 px.
 */
const MIN_FONT_PX = 11;
/**
 * CSS px two text boxes may share before they count as overlapping. Chromium positions glyphs at
 * fractions of a pixel, and a text's box spans the font's ascent and descent, so boxes of texts
 * that do not touch on screen can still meet by a fraction of a pixel; half a pixel allows that and
 * nothing a reader would see.
 */
const OVERLAP_TOLERANCE = 0.5;

/** Screenshots for a look: SCREENSHOT_DIR if set, else the repository's ignored tmp/ folder. */
const screenshotDir = process.env.SCREENSHOT_DIR ?? join(process.cwd(), 'tmp', 'screenshots');

interface Box {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

interface Measured {
  readonly width: number;
  readonly scale: number;
  readonly frame: Box;
  readonly texts: { readonly text: string; readonly fontPx: number; readonly box: Box; readonly se: boolean }[];
  /** Network figure: stage boxes; block figure: step boxes with the box of the text inside. */
  readonly boxes: { readonly id: string; readonly box: Box; readonly fill: string; readonly inner: Box | null; readonly shape: Box | null }[];
}

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  ({ page } = await browser.newPage());
  await page.setViewportSize({ width: README_WIDTH, height: 800 });
  mkdirSync(screenshotDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

/** Shows `svg` in the README-wide column and measures what Chromium drew. */
async function measure(svg: string): Promise<Measured> {
  const inline = svg.replace(/^<\?xml[^>]*>\s*/, '').replace('<svg ', '<svg style="display:block;max-width:100%;height:auto" ');
  await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff"><div style="width:${README_WIDTH}px">${inline}</div></body></html>`);
  return page.evaluate(() => {
    const root = document.querySelector('svg')!;
    const toBox = (r: DOMRect) => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom });
    const scale = root.getScreenCTM()!.a;
    // Leaves: tspans, and texts without tspans.
    const leaves = Array.from(root.querySelectorAll('text, tspan')).filter((e) => e.tagName === 'tspan' || e.querySelector('tspan') === null);
    const texts = leaves.filter((e) => (e.textContent ?? '').trim() !== '').map((e) => ({
      text: e.textContent ?? '',
      fontPx: parseFloat(getComputedStyle(e).fontSize) * scale,
      box: toBox(e.getBoundingClientRect()),
      se: e.closest('.se') !== null,
    }));
    const boxes = Array.from(root.querySelectorAll('[data-column] .box, .step .box')).map((rect) => {
      const group = rect.parentElement!;
      const inner = group.querySelector('.step-text');
      const shape = group.querySelector('.shape');
      return {
        id: group.getAttribute('data-column') ?? `${group.closest('[data-block]')!.getAttribute('data-block')} ${group.getAttribute('data-label')}`,
        box: toBox(rect.getBoundingClientRect()),
        fill: rect.getAttribute('fill') ?? '',
        inner: inner === null ? null : toBox(inner.getBoundingClientRect()),
        shape: shape === null ? null : toBox(shape.getBoundingClientRect()),
      };
    });
    return { width: root.getBoundingClientRect().width, scale, frame: toBox(root.getBoundingClientRect()), texts, boxes };
  });
}

const intersection = (a: Box, b: Box): [number, number] =>
  [Math.min(a.right, b.right) - Math.max(a.left, b.left), Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top)];
const overlaps = (a: Box, b: Box): boolean => {
  const [x, y] = intersection(a, b);
  return x > OVERLAP_TOLERANCE && y > OVERLAP_TOLERANCE;
};
const inside = (inner: Box, outer: Box): boolean =>
  inner.left >= outer.left - OVERLAP_TOLERANCE && inner.right <= outer.right + OVERLAP_TOLERANCE &&
  inner.top >= outer.top - OVERLAP_TOLERANCE && inner.bottom <= outer.bottom + OVERLAP_TOLERANCE;

/** The checks every figure must pass at README width. */
function expectLegible(figure: Measured, name: string): void {
  expect(figure.width, name).toBeLessThanOrEqual(README_WIDTH);
  expect(figure.texts.length, name).toBeGreaterThan(10);
  for (const t of figure.texts) {
    expect(t.fontPx, `${name}: "${t.text}"`).toBeGreaterThanOrEqual(MIN_FONT_PX);
    expect(inside(t.box, figure.frame), `${name}: "${t.text}" is cut off by the figure's edge`).toBe(true);
  }
  const collisions: string[] = [];
  figure.texts.forEach((a, i) => {
    for (const b of figure.texts.slice(i + 1)) if (overlaps(a.box, b.box)) collisions.push(`"${a.text}" and "${b.text}"`);
  });
  expect(collisions, `${name}: overlapping labels`).toEqual([]);
}

async function screenshot(file: string): Promise<void> {
  const path = join(screenshotDir, file);
  await page.screenshot({ path, fullPage: true });
  const image = await decodeImage(new Uint8Array(readFileSync(path)));
  const scale = await page.evaluate(() => window.devicePixelRatio);
  expect(image.width).toBe(README_WIDTH * scale);
}

/** `#rrggbb` to [r, g, b]. */
const rgb = (hex: string): number[] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

describe('the network diagram at README width', () => {
  it('docs/b0.svg: every stage box at least the minimum size, every label readable and apart, on screen', async () => {
    const figure = await measure(readFileSync('docs/b0.svg', 'utf8'));
    expectLegible(figure, 'docs/b0.svg');
    // Drawn at its own size: no scaling down, so 12 px labels stay 12 px. 1e-4 allows Chromium's
    // layout unit (1/64 px) over a figure several hundred px wide, should a size not be whole.
    expect(Math.abs(figure.scale - 1)).toBeLessThanOrEqual(1e-4);
    const stages = figure.boxes.filter((b) => b.id.startsWith('blocks.'));
    expect(stages).toHaveLength(7);
    for (const { id, box } of figure.boxes) {
      // Box sizes are whole drawing units times a scale of 1; 0.01 allows the two-decimal coordinates.
      expect(box.right - box.left, id).toBeGreaterThanOrEqual(MIN_BOX_WIDTH - 0.01);
      expect(box.bottom - box.top, id).toBeGreaterThanOrEqual(MIN_BOX_HEIGHT - 0.01);
    }
    // Labels sit apart from every box, except the SE marker's own text inside its circle.
    for (const t of figure.texts.filter((x) => !x.se)) {
      for (const { id, box } of figure.boxes) expect(overlaps(t.box, box), `"${t.text}" on the box of ${id}`).toBe(false);
    }
    await screenshot('b0-network-800.png');
    const image = await decodeImage(new Uint8Array(readFileSync(join(screenshotDir, 'b0-network-800.png'))));
    const dpr = await page.evaluate(() => window.devicePixelRatio);
    for (const { id, box, fill } of stages) {
      const x = Math.round(((box.left + box.right) / 2) * dpr);
      const y = Math.round(((box.top + box.bottom) / 2) * dpr);
      const pixel = Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));
      // A solid fill away from any edge; 2 levels per channel allow colour conversion's rounding.
      pixel.forEach((value, k) => expect(Math.abs(value - rgb(fill)[k]), `${id} at its centre`).toBeLessThanOrEqual(2));
    }
  });

  it('docs/v2_s.svg passes the same checks', async () => {
    const figure = await measure(readFileSync('docs/v2_s.svg', 'utf8'));
    expectLegible(figure, 'docs/v2_s.svg');
    await screenshot('v2_s-network-800.png');
  });

  it('every variant drawn by the library fits the column with readable, separate labels', async () => {
    for (const name of VARIANT_NAMES) {
      const figure = await measure(networkDiagram(buildNetwork(name)));
      expectLegible(figure, name);
      for (const { id, box } of figure.boxes) {
        expect(box.right - box.left, `${name} ${id}`).toBeGreaterThanOrEqual(MIN_BOX_WIDTH - 0.01);
        expect(box.bottom - box.top, `${name} ${id}`).toBeGreaterThanOrEqual(MIN_BOX_HEIGHT - 0.01);
      }
    }
  });
});

describe('the block diagram at README width', () => {
  /** Each step's text inside its box, and its shape to the right of the box, not over it. */
  function expectStepsFit(figure: Measured, name: string): void {
    const steps = figure.boxes.filter((b) => b.inner !== null);
    expect(steps.length, name).toBeGreaterThan(5);
    for (const { id, box, inner, shape } of steps) {
      expect(inside(inner!, box), `${name}: the text of ${id} spills out of its box`).toBe(true);
      expect(shape!.left, `${name}: the shape of ${id}`).toBeGreaterThanOrEqual(box.right);
    }
  }

  it('docs/b0-blocks.svg: MBConv1 and MBConv6 side by side, readable, each step in its box', async () => {
    const figure = await measure(readFileSync('docs/b0-blocks.svg', 'utf8'));
    expectLegible(figure, 'docs/b0-blocks.svg');
    expect(Math.abs(figure.scale - 1)).toBeLessThanOrEqual(1e-4); // as for docs/b0.svg
    expectStepsFit(figure, 'docs/b0-blocks.svg');
    await screenshot('b0-blocks-800.png');
  });

  it('the side-by-side figures of Lite0, V2-S and B7 and a stride-2 block fit as well', async () => {
    for (const name of ['lite0', 'v2_s', 'b7'] as const) {
      const network = buildNetwork(name);
      const figure = await measure(blockDiagram(network, representativeBlocks(network).map((b) => b.name)));
      expectLegible(figure, name);
      expectStepsFit(figure, name);
    }
    const strided = await measure(blockDiagram(buildNetwork('b7'), ['blocks.2.0', 'blocks.5.0']));
    expectLegible(strided, 'b7 stride-2 blocks');
    expectStepsFit(strided, 'b7 stride-2 blocks');
  });
});
