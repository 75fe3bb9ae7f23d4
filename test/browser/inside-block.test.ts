/**
 * The demo's "inside" view draws the block a visitor picks, step by step, with the library's own
 * block drawing: in Chromium, the drawn steps (timm names and shapes) are compared with
 * `blockWalk` run here in Node for the same network and input size, for B0's MBConv6 and MBConv1,
 * a Lite block and a V2 fused-MBConv block, and the drawing is checked to be on screen.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildNetwork } from '../../src/arch/network.js';
import type { VariantName } from '../../src/arch/variants.js';
import { blockWalk } from '../../src/diagram/block-steps.js';
import { decodeImage } from '../../src/image/decode.js';
import { useDemoInChromium } from '../support/browser.js';

const demo = useDemoInChromium();

interface Drawn {
  readonly block: string;
  readonly title: string;
  readonly steps: [label: string, shape: string][];
}

async function drawnBlock(page: Page): Promise<Drawn> {
  return page.evaluate(() => {
    const container = document.querySelector<HTMLElement>('#block-drawing')!;
    return {
      block: container.dataset.block ?? '',
      title: container.querySelector('svg > title')?.textContent ?? '',
      steps: Array.from(container.querySelectorAll<SVGGElement>('.step'), (g) => [g.dataset.label ?? '', g.dataset.shape ?? ''] as [string, string]),
    };
  });
}

/** What Node's walk of the same block gives, as [label, shape] rows after an `input` row. */
function expectedSteps(variant: VariantName, block: string, resolution: number): [string, string][] {
  const walk = blockWalk(buildNetwork(variant), block, resolution);
  const shape = ([c, h, w]: readonly number[]): string => `${c}×${h}×${w}`;
  return [['input', shape(walk.input)], ...walk.steps.map((s): [string, string] => [s.label, shape(s.output)])];
}

/** The input side the drawing says it is for (its title ends "at S×S"). */
const resolutionOf = (drawn: Drawn): number => Number(/at (\d+)×\1$/.exec(drawn.title)![1]);

async function waitForDrawing(page: Page, titlePart: string, block: string): Promise<Drawn> {
  await page.waitForFunction(([part, name]) => {
    const container = document.querySelector<HTMLElement>('#block-drawing');
    return container?.dataset.block === name && (container.querySelector('svg > title')?.textContent ?? '').includes(part);
  }, [titlePart, block] as const);
  return drawnBlock(page);
}

describe('the block drawing in the demo', () => {
  it("draws the picked block of the model in use, as the library's walk of it", async () => {
    const { page, errors } = await demo.openDemoPage();
    await page.waitForSelector('body[data-state="done"]');
    await page.click('#inside summary');

    // B0 (the default preset): every block is offered, and the default is an MBConv6 with SE and a residual add.
    const b0 = buildNetwork('b0');
    const initial = await waitForDrawing(page, 'EfficientNet-B0', 'blocks.1.1');
    const options = await page.locator('#block-choice option').evaluateAll((list) => list.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual(b0.blocks.map((b) => b.name));
    expect(resolutionOf(initial)).toBe(224);
    expect(initial.steps).toEqual(expectedSteps('b0', 'blocks.1.1', 224));
    expect(initial.steps.map(([label]) => label)).toEqual(['input', 'conv_pw', 'bn1', 'swish', 'conv_dw', 'bn2', 'swish',
      'avg pool', 'se.conv_reduce', 'swish', 'se.conv_expand', 'sigmoid', 'multiply', 'conv_pwl', 'bn3', 'add']);

    // On screen: the drawing's pixels hold boxes and text (a blank area is one colour).
    const { data, width, height } = await decodeImage(await page.locator('#block-drawing svg').screenshot()); // data: [h, w, 3]
    const colours = new Set<number>();
    for (let p = 0; p < width * height; p++) colours.add((data[p * 3] << 16) | (data[p * 3 + 1] << 8) | data[p * 3 + 2]);
    expect(colours.size).toBeGreaterThan(10);

    // Picking MBConv1 redraws at once: no expansion, SE, no residual.
    await page.selectOption('#block-choice', 'blocks.0.0');
    const separable = await waitForDrawing(page, 'EfficientNet-B0', 'blocks.0.0');
    expect(separable.steps).toEqual(expectedSteps('b0', 'blocks.0.0', 224));

    // Another model keeps the pick where it exists: Lite0's blocks.0.0 (ReLU6, no SE), then its MBConv6.
    await page.selectOption('#architecture', 'variant:lite0');
    const lite = await waitForDrawing(page, 'EfficientNet-Lite0', 'blocks.0.0');
    expect(lite.steps).toEqual(expectedSteps('lite0', 'blocks.0.0', resolutionOf(lite)));
    await page.selectOption('#block-choice', 'blocks.1.1');
    const liteMbconv = await waitForDrawing(page, 'EfficientNet-Lite0', 'blocks.1.1');
    expect(liteMbconv.steps).toEqual(expectedSteps('lite0', 'blocks.1.1', resolutionOf(liteMbconv)));
    expect(liteMbconv.steps.map(([label]) => label)).toContain('relu6');
    expect(liteMbconv.steps.map(([label]) => label)).not.toContain('avg pool');

    // V2-B0's blocks.1.1 is a fused-MBConv: one full 3×3 conv expands, then the projection.
    await page.selectOption('#architecture', 'variant:v2_b0');
    const fused = await waitForDrawing(page, 'EfficientNetV2-B0', 'blocks.1.1');
    expect(fused.steps).toEqual(expectedSteps('v2_b0', 'blocks.1.1', resolutionOf(fused)));
    expect(fused.steps.map(([label]) => label)).toEqual(['input', 'conv_exp', 'bn1', 'swish', 'conv_pwl', 'bn2', 'add']);
    expect(errors).toEqual([]);
    await page.close();
  });
});
