import { describe, expect, it } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { networkLayers, expectedTensors } from '../../src/arch/layers.js';
import { VARIANTS, VARIANT_NAMES } from '../../src/arch/variants.js';
import { compoundScaling, customScaling, roundChannels, roundRepeats, squeezeChannels } from '../../src/arch/scaling.js';
import { ConfigError } from '../../src/errors.js';

// Published trainable-parameter counts (conv/linear weights and biases, BN gamma and beta).
const PUBLISHED_PARAMS = {
  b0: 5_288_548, b1: 7_794_184, b2: 9_109_994, b3: 12_233_232, b4: 19_341_616,
  b5: 30_389_784, b6: 43_040_704, b7: 66_347_960, b8: 87_413_142, l2: 480_309_308,
} as const;

// Stem and head widths follow from roundChannels(32 | 1280, width); these are the values in the
// published checkpoints, listed so the rounding rule is checked against data, not against itself.
const PUBLISHED_WIDTHS = {
  b0: [32, 1280], b1: [32, 1280], b2: [32, 1408], b3: [40, 1536], b4: [48, 1792],
  b5: [48, 2048], b6: [56, 2304], b7: [64, 2560], b8: [72, 2816], l2: [136, 5504],
} as const;

const PUBLISHED_BLOCKS = { b0: 16, b1: 23, b2: 23, b3: 26, b4: 32, b5: 39, b6: 45, b7: 55, b8: 61, l2: 88 } as const;

describe('scaling rules', () => {
  it('rounds channels to multiples of 8 with the 10% guard', () => {
    expect(roundChannels(32, 1.0)).toBe(32);
    expect(roundChannels(16, 1.1)).toBe(16); // 17.6 -> 16, within 10%
    expect(roundChannels(24, 1.1)).toBe(24); // 26.4 -> 24 is 9.1% below: kept
    expect(roundChannels(40, 1.2)).toBe(48);
    expect(roundChannels(4, 1.0)).toBe(8); // never below the divisor
    expect(roundChannels(44, 1.0)).toBe(48); // 44 + 4 = 48 rounds up
    expect(roundChannels(12, 0.7)).toBe(8); // 8.4 rounds to 8, within 10%: guard not hit
    expect(roundChannels(17, 0.7)).toBe(16); // 11.9 rounds to 8, 33% short: guard adds 8
  });
  it('rounds repeats up', () => {
    expect(roundRepeats(1, 1.1)).toBe(2);
    expect(roundRepeats(4, 1.0)).toBe(4);
    expect(roundRepeats(3, 5.3)).toBe(16);
  });
  it('derives the SE width from the block input', () => {
    expect(squeezeChannels(16, 0.25)).toBe(4);
    expect(squeezeChannels(3, 0.25)).toBe(1);
  });
  it('validates custom coefficients and implements the paper rule separately', () => {
    expect(() => customScaling(0, 1, 224)).toThrow(ConfigError);
    expect(() => customScaling(1, 1, 22.5)).toThrow(ConfigError);
    const phi1 = compoundScaling(1);
    expect(phi1.depth).toBeCloseTo(1.2, 12);
    expect(phi1.width).toBeCloseTo(1.1, 12);
    expect(phi1.resolution).toBe(Math.round(224 * 1.15));
    expect(compoundScaling(0)).toMatchObject({ width: 1, depth: 1, resolution: 224 });
  });
});

describe.each(VARIANT_NAMES)('variant %s', (variant) => {
  const network = buildNetwork(variant);
  const layers = networkLayers(network, VARIANTS[variant].resolution);

  it('has the published parameter count', () => {
    expect(layers.reduce((sum, l) => sum + l.params, 0)).toBe(PUBLISHED_PARAMS[variant]);
  });
  it('has the published stem and head widths and block count', () => {
    expect([network.stemChannels, network.headChannels]).toEqual(PUBLISHED_WIDTHS[variant]);
    expect(network.blocks.length).toBe(PUBLISHED_BLOCKS[variant]);
  });
  it('chains channels and marks residuals consistently', () => {
    let channels = network.stemChannels;
    for (const block of network.blocks) {
      expect(block.inChannels).toBe(channels);
      expect(block.outChannels % 8).toBe(0);
      expect(block.residual).toBe(block.stride === 1 && block.inChannels === block.outChannels);
      expect(block.stride === 2).toBe(block.index === 0 && [1, 2, 3, 5].includes(block.stage));
      channels = block.outChannels;
    }
  });
  it('names tensors uniquely', () => {
    const names = expectedTensors(network).map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('b0 at 224', () => {
  const layers = networkLayers(buildNetwork('b0'), 224);
  it('has 385,814,752 multiply-adds', () => {
    expect(layers.reduce((sum, l) => sum + l.macs, 0)).toBe(385_814_752);
  });
  it('ends at 7x7 before pooling', () => {
    const head = layers.find((l) => l.name === 'conv_head')!;
    expect(head.output).toEqual([1280, 7, 7]);
  });
});
