/**
 * The block diagram: each block's steps are `networkLayers`' layers for that block, in the same
 * order with the same shapes, with the weightless steps (activations, SE's pool, gate and multiply,
 * the residual add) where timm computes them. The expected step sequences below are written out
 * by hand from timm's block classes (InvertedResidual, DepthwiseSeparableConv, EdgeResidual,
 * ConvBnAct), and B0's shapes by hand from the stage table, so they check the walk rather than
 * repeat it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChwShape } from '../../src/arch/layers.js';
import { networkLayers } from '../../src/arch/layers.js';
import { buildNetwork } from '../../src/arch/network.js';
import type { VariantName } from '../../src/arch/variants.js';
import { blockDiagram, representativeBlocks } from '../../src/diagram/block-diagram.js';
import { blockWalk } from '../../src/diagram/block-steps.js';
import { ConfigError } from '../../src/errors.js';

/** The step labels of a block, in order, after its input. */
const SE = (act: string): string[] => ['avg pool', 'se.conv_reduce', act, 'se.conv_expand', 'sigmoid', 'multiply'];
const cases: readonly { variant: VariantName; block: string; what: string; labels: string[] }[] = [
  {
    variant: 'b0', block: 'blocks.0.0', what: 'MBConv1 (no expansion, no residual: 32 to 16 channels)',
    labels: ['conv_dw', 'bn1', 'swish', ...SE('swish'), 'conv_pw', 'bn2'],
  },
  {
    variant: 'b0', block: 'blocks.1.0', what: 'MBConv6 with stride 2 (no residual)',
    labels: ['conv_pw', 'bn1', 'swish', 'conv_dw', 'bn2', 'swish', ...SE('swish'), 'conv_pwl', 'bn3'],
  },
  {
    variant: 'b0', block: 'blocks.1.1', what: 'MBConv6 with a residual add',
    labels: ['conv_pw', 'bn1', 'swish', 'conv_dw', 'bn2', 'swish', ...SE('swish'), 'conv_pwl', 'bn3', 'add'],
  },
  {
    variant: 'lite0', block: 'blocks.1.1', what: 'a Lite MBConv6: no SE, ReLU6',
    labels: ['conv_pw', 'bn1', 'relu6', 'conv_dw', 'bn2', 'relu6', 'conv_pwl', 'bn3', 'add'],
  },
  {
    variant: 'v2_s', block: 'blocks.1.1', what: "a V2 fused-MBConv: one full 3×3 conv expands, no SE",
    labels: ['conv_exp', 'bn1', 'swish', 'conv_pwl', 'bn2', 'add'],
  },
  {
    variant: 'v2_s', block: 'blocks.0.1', what: "V2's conv-bn-act block",
    labels: ['conv', 'bn1', 'swish', 'add'],
  },
  {
    variant: 'v2_s', block: 'blocks.3.0', what: 'a V2 MBConv4 with SE and stride 2',
    labels: ['conv_pw', 'bn1', 'swish', 'conv_dw', 'bn2', 'swish', ...SE('swish'), 'conv_pwl', 'bn3'],
  },
];

/** The `<g class="step ...">` groups of one block's column, with what they carry. */
function drawnSteps(svg: string, block: string): { label: string; module: string | null; shape: string; text: string }[] {
  const column = svg.slice(svg.indexOf(`data-block="${block}"`));
  const end = column.indexOf('data-block=', 20);
  const body = end < 0 ? column : column.slice(0, end);
  return [...body.matchAll(/<g class="step [^"]*" data-label="([^"]*)"(?: data-module="([^"]*)")? data-shape="([^"]*)">([\s\S]*?)\n {4}<\/g>/g)]
    .map((m) => ({ label: m[1], module: m[2] ?? null, shape: m[3], text: m[4] }));
}

const shapeText = ([c, h, w]: ChwShape): string => `${c}×${h}×${w}`;

describe('the steps of a block', () => {
  for (const { variant, block, what, labels } of cases) {
    it(`${variant} ${block}, ${what}: timm's order, and networkLayers' layers and shapes`, () => {
      const network = buildNetwork(variant);
      const resolution = network.coefficients.resolution;
      const walk = blockWalk(network, block, resolution);
      expect(walk.steps.map((s) => s.label)).toEqual(labels);
      // Every layer networkLayers has for the block, in order, is a step with the same name and output shape.
      const layers = networkLayers(network, resolution).filter((l) => l.name.startsWith(`${block}.`));
      const withWeights = walk.steps.filter((s) => s.module !== null);
      expect(withWeights.map((s) => s.module)).toEqual(layers.map((l) => l.name));
      expect(withWeights.map((s) => s.output)).toEqual(layers.map((l) => l.output));
      expect(walk.input).toEqual(layers[0].input);
      // Weightless steps keep the shape they are given, except the pooling (to 1×1) and the multiply (back to the map).
      const spec = network.blocks.find((b) => b.name === block)!;
      const last = walk.steps[walk.steps.length - 1].output;
      expect(last[0]).toBe(spec.outChannels);
      expect(walk.steps.some((s) => s.kind === 'add')).toBe(spec.residual);
      if (spec.residual) expect(last).toEqual(walk.input);
      expect(walk.steps.filter((s) => s.squeezeExcite).map((s) => s.label)).toEqual(spec.seChannels > 0 ? SE(spec.activation).slice(0, 5) : []);
    });

    it(`${variant} ${block}: the drawing shows every step in order with its shape`, () => {
      const network = buildNetwork(variant);
      const walk = blockWalk(network, block);
      const svg = blockDiagram(network, [block]);
      const drawn = drawnSteps(svg, block);
      expect(drawn.map((d) => d.label)).toEqual(['input', ...labels]);
      expect(drawn.map((d) => d.shape)).toEqual([walk.input, ...walk.steps.map((s) => s.output)].map(shapeText));
      expect(drawn.slice(1).map((d) => d.module)).toEqual(walk.steps.map((s) => s.module));
      for (const d of drawn) {
        expect(d.text).toContain(`>${d.label}</tspan>`);
        expect(d.text).toContain(`<text class="shape"`);
        expect(d.text).toContain(`>${d.shape}</text>`);
      }
      const spec = network.blocks.find((b) => b.name === block)!;
      expect(svg.includes('class="residual"')).toBe(spec.residual);
      expect(svg.includes('class="se-bypass"')).toBe(spec.seChannels > 0);
    });
  }

  it("gives B0's shapes as computed by hand from the stage table at 224", () => {
    // blocks.1.0: 16 channels in at 112×112, expanded 6× to 96, depthwise stride 2 to 56×56, SE to
    // max(1, floor(16 × 0.25)) = 4, projected to 24. blocks.1.1: 24 in, 144 inside, SE to 6, 24 out.
    const network = buildNetwork('b0');
    const shapes = (block: string): Record<string, string> =>
      Object.fromEntries(blockWalk(network, block, 224).steps.filter((s) => s.module !== null).map((s) => [s.label, shapeText(s.output)]));
    expect(shapes('blocks.1.0')).toEqual({
      conv_pw: '96×112×112', bn1: '96×112×112', conv_dw: '96×56×56', bn2: '96×56×56',
      'se.conv_reduce': '4×1×1', 'se.conv_expand': '96×1×1', conv_pwl: '24×56×56', bn3: '24×56×56',
    });
    expect(shapes('blocks.1.1')).toEqual({
      conv_pw: '144×56×56', bn1: '144×56×56', conv_dw: '144×56×56', bn2: '144×56×56',
      'se.conv_reduce': '6×1×1', 'se.conv_expand': '144×1×1', conv_pwl: '24×56×56', bn3: '24×56×56',
    });
    expect(shapes('blocks.0.0')).toEqual({
      conv_dw: '32×112×112', bn1: '32×112×112', 'se.conv_reduce': '8×1×1', 'se.conv_expand': '32×1×1', conv_pw: '16×112×112', bn2: '16×112×112',
    });
    // Shapes follow the resolution asked for.
    expect(blockWalk(network, 'blocks.1.1', 256).steps[0].output).toEqual([144, 64, 64]);
  });
});

describe('the block figure', () => {
  it("puts B0's MBConv1 and a residual MBConv6 side by side, one column per block type", () => {
    expect(representativeBlocks(buildNetwork('b0')).map((b) => b.name)).toEqual(['blocks.0.0', 'blocks.1.1']);
    expect(representativeBlocks(buildNetwork('lite0')).map((b) => b.name)).toEqual(['blocks.0.0', 'blocks.1.1']);
    // V2-S: Conv3×3 (its first block already adds its input), FusedMBConv4, MBConv4, MBConv6.
    expect(representativeBlocks(buildNetwork('v2_s')).map((b) => b.name)).toEqual(['blocks.0.0', 'blocks.1.1', 'blocks.3.1', 'blocks.4.1']);
  });

  it('is the committed docs/b0-blocks.svg, and deterministic', () => {
    const network = buildNetwork('b0');
    const svg = blockDiagram(network, ['blocks.0.0', 'blocks.1.1']);
    expect(blockDiagram(network, ['blocks.0.0', 'blocks.1.1'])).toBe(svg);
    expect(readFileSync(new URL('../../docs/b0-blocks.svg', import.meta.url), 'utf8'),
      'docs/b0-blocks.svg is out of date: run efficientnet diagram block --out docs/b0-blocks.svg').toBe(svg);
  });

  it('refuses an unknown block with a ConfigError that lists the valid names, before drawing any', () => {
    const network = buildNetwork('b0');
    for (const name of ['blocks.7.0', 'blocks.1.2', 'conv_stem', '']) {
      let error: unknown;
      try {
        blockDiagram(network, ['blocks.0.0', name]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain(`no block "${name}" in EfficientNet-B0`);
      // One range per stage of B0: 1, 2, 2, 3, 3, 4 and 1 blocks.
      expect(message).toContain('blocks.0.0, blocks.1.0 … blocks.1.1, blocks.2.0 … blocks.2.1, blocks.3.0 … blocks.3.2, ' +
        'blocks.4.0 … blocks.4.2, blocks.5.0 … blocks.5.3, blocks.6.0');
    }
    expect(() => blockDiagram(network, ['blocks.0.0'], 0)).toThrow(ConfigError);
    expect(() => blockDiagram(network, ['blocks.0.0'], 22.5)).toThrow(ConfigError);
  });
});
