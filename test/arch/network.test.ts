import { describe, expect, it } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { networkLayers, expectedTensors } from '../../src/arch/layers.js';
import { VARIANTS, VARIANT_NAMES, type VariantName } from '../../src/arch/variants.js';
import { compoundScaling, customScaling, roundChannels, roundRepeats, squeezeChannels } from '../../src/arch/scaling.js';
import { ConfigError } from '../../src/errors.js';

// Published trainable-parameter counts (conv/linear weights and biases, BN gamma and beta).
// Lite0-4: timm's `tf_efficientnet_lite*` model cards. V2-S, M and L: torchvision's
// `efficientnet_v2_s|m|l` weight metadata (`num_params`). V2-B0-B3, XL and rw_s: timm publishes them
// rounded to 10^4 (7.14M, 8.14M, 10.10M, 14.36M, 208.12M, 23.94M); the exact counts here were
// recounted with torchvision 0.14's own EfficientNet class built from the same stage table
// (scripts/torchvision-v2-params.py), an implementation independent of this one.
const PUBLISHED_PARAMS: Readonly<Record<VariantName, number>> = {
  b0: 5_288_548, b1: 7_794_184, b2: 9_109_994, b3: 12_233_232, b4: 19_341_616,
  b5: 30_389_784, b6: 43_040_704, b7: 66_347_960, b8: 87_413_142, l2: 480_309_308,
  lite0: 4_652_008, lite1: 5_416_680, lite2: 6_092_072, lite3: 8_197_096, lite4: 13_006_568,
  v2_b0: 7_139_704, v2_b1: 8_141_052, v2_b2: 10_096_086, v2_b3: 14_358_406,
  v2_s: 21_458_488, v2_m: 54_139_356, v2_l: 118_515_272, v2_xl: 208_119_808, v2_rw_s: 23_941_296,
};

// Stem and head widths follow from roundChannels(32 | 1280, width); these are the values in the
// published checkpoints, listed so the rounding rule is checked against data, not against itself.
// Lite fixes stem 32 and head 1280 at every width; V2-B* scale both with no 0.9 guard (v2_b3:
// 1280 * 1.2 = 1536, 32 * 1.2 = 38.4 -> 40).
const PUBLISHED_WIDTHS: Readonly<Record<VariantName, readonly [number, number]>> = {
  b0: [32, 1280], b1: [32, 1280], b2: [32, 1408], b3: [40, 1536], b4: [48, 1792],
  b5: [48, 2048], b6: [56, 2304], b7: [64, 2560], b8: [72, 2816], l2: [136, 5504],
  lite0: [32, 1280], lite1: [32, 1280], lite2: [32, 1280], lite3: [32, 1280], lite4: [32, 1280],
  v2_b0: [32, 1280], v2_b1: [32, 1280], v2_b2: [32, 1408], v2_b3: [40, 1536],
  v2_s: [24, 1280], v2_m: [24, 1280], v2_l: [32, 1280], v2_xl: [32, 1280], v2_rw_s: [24, 1792],
};

// Lite keeps the first and last stages at one block each: lite4 is 1+4+4+6+6+8+1 = 30 where B4 has
// 32. V2-B1 scales 1,2,2,3,5,8 by 1.1 (rounding up) to 2,3,3,4,6,9 = 27.
const PUBLISHED_BLOCKS: Readonly<Record<VariantName, number>> = {
  b0: 16, b1: 23, b2: 23, b3: 26, b4: 32, b5: 39, b6: 45, b7: 55, b8: 61, l2: 88,
  lite0: 16, lite1: 21, lite2: 21, lite3: 24, lite4: 30,
  v2_b0: 21, v2_b1: 27, v2_b2: 28, v2_b3: 32, v2_s: 40, v2_m: 57, v2_l: 79, v2_xl: 100, v2_rw_s: 40,
};

/** Stages whose first block has stride 2 in every topology of the family (the rest keep the resolution). */
const STRIDE_TWO_STAGES: readonly number[] = [1, 2, 3, 5];

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
      expect(block.seChannels).toBe(network.topology.family === 'EfficientNet-Lite' || block.kind !== 'mbconv' && block.kind !== 'depthwise-separable'
        ? 0 : Math.floor(block.inChannels / 4));
      expect(block.stride === 2).toBe(block.index === 0 && STRIDE_TWO_STAGES.includes(block.stage));
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

describe('the topologies differ only in data', () => {
  it('gives Lite B0\'s stages with ReLU6 and no SE', () => {
    const b0 = buildNetwork('b0');
    const lite0 = buildNetwork('lite0');
    const shape = (n: typeof b0) => n.blocks.map((b) => [b.kind, b.kernel, b.stride, b.inChannels, b.expandedChannels, b.outChannels, b.residual]);
    expect(shape(lite0)).toEqual(shape(b0));
    expect(new Set(lite0.blocks.map((b) => b.activation))).toEqual(new Set(['relu6']));
    expect([lite0.stem.activation, lite0.head.activation]).toEqual(['relu6', 'relu6']);
    expect(lite0.blocks.every((b) => b.seChannels === 0)).toBe(true);
    // B0's parameters minus Lite0's are exactly B0's SE convs.
    const seParams = networkLayers(b0, 224).filter((l) => l.op === 'se_reduce' || l.op === 'se_expand').reduce((sum, l) => sum + l.params, 0);
    expect(5_288_548 - 4_652_008).toBe(seParams);
  });
  it('builds V2 from a conv stage, fused-MBConv stages and MBConv stages with SE', () => {
    const s = buildNetwork('v2_s');
    expect([...new Set(s.blocks.map((b) => `${b.stage}:${b.kind}`))]).toEqual([
      '0:conv-bn-act', '1:fused-mbconv', '2:fused-mbconv', '3:mbconv', '4:mbconv', '5:mbconv']);
    const fused = s.blocks.find((b) => b.name === 'blocks.1.0')!;
    expect(fused).toMatchObject({ inChannels: 24, expandedChannels: 96, outChannels: 48, stride: 2, seChannels: 0, residual: false });
    expect(expectedTensors(s).filter((t) => t.name.startsWith('blocks.1.0.')).map((t) => `${t.name}:${t.shape.join('x')}`)).toEqual([
      'blocks.1.0.conv_exp.weight:96x24x3x3', 'blocks.1.0.bn1.weight:96', 'blocks.1.0.bn1.bias:96',
      'blocks.1.0.bn1.running_mean:96', 'blocks.1.0.bn1.running_var:96',
      'blocks.1.0.conv_pwl.weight:48x96x1x1', 'blocks.1.0.bn2.weight:48', 'blocks.1.0.bn2.bias:48',
      'blocks.1.0.bn2.running_mean:48', 'blocks.1.0.bn2.running_var:48',
    ]);
    expect(s.blocks.filter((b) => b.stage === 0).map((b) => [b.kind, b.residual])).toEqual([['conv-bn-act', true], ['conv-bn-act', true]]);
    // SE in V2 is a quarter of the block input, not of the expanded width: blocks.3.0 is 64 -> 256 inside.
    expect(s.blocks.find((b) => b.name === 'blocks.3.0')).toMatchObject({ inChannels: 64, expandedChannels: 256, seChannels: 16 });
  });
});
