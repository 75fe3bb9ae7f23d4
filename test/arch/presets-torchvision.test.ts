/**
 * torchvision's presets against torchvision 0.14's own weight tables, timm's hub spelling, the
 * ImageNet-12k preset, and evaluation at timm's separate test size.
 */
import { describe, expect, it } from 'vitest';
import { findPreset } from '../../src/arch/presets.js';
import { TORCHVISION_PRESETS } from '../../src/arch/presets-torchvision.js';
import { EfficientNet } from '../../src/efficientnet.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';

/** torchvision's `ImageClassification(crop_size, resize_size, interpolation)` per weights, and its BN eps. */
const TORCHVISION_TABLE: [name: string, crop: number, resize: number, interpolation: string, eps: number][] = [
  ['efficientnet_b0', 224, 256, 'bicubic', 1e-5],
  ['efficientnet_b1', 240, 256, 'bicubic', 1e-5],
  ['efficientnet_b1.imagenet1k_v2', 240, 255, 'bilinear', 1e-5],
  ['efficientnet_b2', 288, 288, 'bicubic', 1e-5],
  ['efficientnet_b3', 300, 320, 'bicubic', 1e-5],
  ['efficientnet_b4', 380, 384, 'bicubic', 1e-5],
  ['efficientnet_b5', 456, 456, 'bicubic', 1e-3],
  ['efficientnet_b6', 528, 528, 'bicubic', 1e-3],
  ['efficientnet_b7', 600, 600, 'bicubic', 1e-3],
];

/** EfficientNet_V2_{S,M,L}_Weights.IMAGENET1K_V1 in torchvision 0.14: crop, resize, interpolation, mean (= std); BN eps is 1e-3 for all. */
const TORCHVISION_V2_TABLE: [name: string, variant: string, crop: number, resize: number, interpolation: string, mean: number[]][] = [
  ['efficientnet_v2_s', 'v2_s', 384, 384, 'bilinear', [0.485, 0.456, 0.406]],
  ['efficientnet_v2_m', 'v2_m', 480, 480, 'bilinear', [0.485, 0.456, 0.406]],
  ['efficientnet_v2_l', 'v2_l', 480, 480, 'bicubic', [0.5, 0.5, 0.5]],
];

describe('torchvision presets', () => {
  it('cover every torchvision EfficientNet weight file once', () => {
    expect(TORCHVISION_PRESETS.map((p) => p.name)).toEqual([...TORCHVISION_TABLE, ...TORCHVISION_V2_TABLE].map(([name]) => `torchvision/${name}`));
  });

  it.each(TORCHVISION_V2_TABLE)('%s is %s at %i, resized to %i, %s, with eps 1e-3', (name, variant, crop, resize, interpolation, mean) => {
    const preset = findPreset(`torchvision/${name}`);
    expect(preset).toMatchObject({ variant, padding: 'symmetric', bnEps: 1e-3, inputSize: crop, interpolation, mean });
    expect(Math.floor(preset.inputSize / preset.cropPct)).toBe(resize);
    expect(preset.weightsUrl).toMatch(new RegExp(`^https://download\\.pytorch\\.org/models/${name}-[0-9a-f]{8}\\.pth$`));
  });

  it.each(TORCHVISION_TABLE)('%s resizes to %i… as torchvision does, with its padding and eps', (name, crop, resize, interpolation, eps) => {
    const preset = findPreset(`torchvision/${name}`);
    expect(preset).toMatchObject({ variant: name.slice('efficientnet_'.length, 'efficientnet_'.length + 2), padding: 'symmetric', bnEps: eps, inputSize: crop, interpolation });
    // The recipe resizes the shorter side to floor(size / cropPct): torchvision's resize_size exactly.
    expect(Math.floor(preset.inputSize / preset.cropPct)).toBe(resize);
    expect(preset.weightsUrl).toMatch(/^https:\/\/download\.pytorch\.org\/models\/efficientnet_b\d.*\.pth$/);
  });

  it('set the model\'s padding, eps and preprocessing', async () => {
    const net = await EfficientNet.create({ model: 'torchvision/efficientnet_b0', weights: createSyntheticWeights({ variant: 'b0', seed: 2 }) });
    try {
      expect({ padding: net.padding, bnEps: net.bnEps, size: net.recipe.size }).toEqual({ padding: 'symmetric', bnEps: 1e-5, size: 224 });
    } finally {
      net.dispose();
    }
  });
});

describe('timm names', () => {
  it('are accepted with the hub\'s "timm/" prefix', () => {
    expect(findPreset('timm/efficientnet_b0.ra_in1k')).toBe(findPreset('efficientnet_b0.ra_in1k'));
    expect(findPreset('timm/tf_efficientnet_b3')).toBe(findPreset('tf_efficientnet_b3'));
  });

  it('include efficientnet_b5.sw_in12k with its 11,821 ImageNet-12k classes', () => {
    expect(findPreset('efficientnet_b5.sw_in12k')).toMatchObject({ variant: 'b5', inputSize: 416, cropPct: 0.95, numClasses: 11821, padding: 'symmetric' });
    // The bare architecture still means timm's first-listed tag.
    expect(findPreset('efficientnet_b5').name).toBe('efficientnet_b5.sw_in12k_ft_in1k');
  });

  it('evaluate at the test size only when asked', async () => {
    const weights = createSyntheticWeights({ variant: 'b0', seed: 3 });
    const model = 'efficientnet_b0.ra4_e3600_r224_in1k';
    const train = await EfficientNet.create({ model, weights });
    const test = await EfficientNet.create({ model, weights, testSize: true });
    try {
      expect({ size: train.recipe.size, cropPct: train.recipe.cropPct }).toEqual({ size: 224, cropPct: 0.9 });
      expect({ size: test.recipe.size, cropPct: test.recipe.cropPct }).toEqual({ size: 256, cropPct: 1 });
    } finally {
      train.dispose();
      test.dispose();
    }
  });
});
