import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { findPreset, PRESET_NAMES, PRESETS, type CheckpointPreset } from '../../src/arch/presets.js';
import { COMPOUND_VARIANT_NAMES, LITE_VARIANT_NAMES, VARIANTS } from '../../src/arch/variants.js';

// Preset values are literals copied from timm, never computed, so every comparison is exact.

const architectureOf = (name: string): string => name.split('.', 1)[0];
const tagOf = (name: string): string => name.split('.', 2)[1];
const tfPresets = PRESETS.filter((p) => p.name.startsWith('tf_efficientnet'));
const ptPresets = PRESETS.filter((p) => p.name.startsWith('efficientnet'));
const variantsOf = (presets: readonly CheckpointPreset[]): string[] =>
  [...new Set(presets.map((p) => p.variant))].sort();

describe('checkpoint preset data', () => {
  it('has unique names, each with a tag, matching PRESET_NAMES and the timm hub id', () => {
    expect(new Set(PRESET_NAMES).size).toBe(PRESETS.length);
    expect(PRESET_NAMES).toEqual(PRESETS.map((p) => p.name));
    for (const p of PRESETS) {
      expect(tagOf(p.name), p.name).toBeTruthy();
      expect(p.hubId).toBe(`timm/${p.name}`);
    }
  });

  it('belongs to exactly one of the two families', () => {
    expect(tfPresets.length + ptPresets.length).toBe(PRESETS.length);
  });

  it('gives TensorFlow ports SAME padding with BN eps 1e-3', () => {
    for (const p of tfPresets) {
      expect(p.padding, p.name).toBe('same');
      expect(p.bnEps, p.name).toBe(1e-3);
    }
  });

  it('gives PyTorch-trained weights symmetric padding with BN eps 1e-5', () => {
    for (const p of ptPresets) {
      expect(p.padding, p.name).toBe('symmetric');
      expect(p.bnEps, p.name).toBe(1e-5);
    }
  });

  it('normalises AdvProp checkpoints with mean and std 0.5', () => {
    const advProp = PRESETS.filter((p) => tagOf(p.name).startsWith('ap_'));
    expect(advProp.length).toBeGreaterThan(0);
    for (const p of advProp) {
      expect(p.mean, p.name).toEqual([0.5, 0.5, 0.5]);
      expect(p.std, p.name).toEqual([0.5, 0.5, 0.5]);
    }
  });

  it('keeps crop fractions in (0, 1] and eval settings consistent', () => {
    for (const p of PRESETS) {
      expect(p.cropPct, p.name).toBeGreaterThan(0);
      expect(p.cropPct, p.name).toBeLessThanOrEqual(1);
      if (p.testCropPct !== undefined) {
        expect(p.testInputSize, `${p.name}: a test crop needs a test size`).toBeDefined();
        expect(p.testCropPct, p.name).toBeGreaterThan(0);
        expect(p.testCropPct, p.name).toBeLessThanOrEqual(1);
      }
      if (p.testInputSize !== undefined) {
        // timm only records a test size when it evaluates larger than it trained.
        expect(p.testInputSize, p.name).toBeGreaterThan(p.inputSize);
      }
    }
  });

  it('uses positive integer sizes, 1000 classes (11,821 for ImageNet-12k), a known interpolation and crop mode', () => {
    for (const p of PRESETS) {
      expect(Number.isInteger(p.inputSize) && p.inputSize > 0, p.name).toBe(true);
      // ImageNet-1k heads, except the one ImageNet-12k checkpoint (11,821 classes).
      expect(p.numClasses, p.name).toBe(p.name === 'efficientnet_b5.sw_in12k' ? 11821 : 1000);
      expect(['bicubic', 'bilinear'], p.name).toContain(p.interpolation);
      expect(['center', 'squash', undefined], p.name).toContain(p.cropMode);
    }
  });

  it("names each preset's variant in its architecture", () => {
    for (const p of PRESETS) {
      // V2 architectures spell the variant after `efficientnetv2_`: tf_efficientnetv2_s is v2_s.
      const suffix = p.variant.startsWith('v2_') ? p.variant.slice(3) : p.variant;
      expect(architectureOf(p.name).endsWith(`_${suffix}`), p.name).toBe(true);
      expect(architectureOf(p.name).includes('efficientnetv2'), p.name).toBe(p.variant.startsWith('v2_'));
    }
  });

  it('covers b0..b8, l2, lite0..lite4 and V2 for TensorFlow ports and b0..b5 and V2-rw-S for PyTorch-trained weights', () => {
    expect(variantsOf(tfPresets)).toEqual([...COMPOUND_VARIANT_NAMES, ...LITE_VARIANT_NAMES,
      'v2_b0', 'v2_b1', 'v2_b2', 'v2_b3', 'v2_s', 'v2_m', 'v2_l', 'v2_xl'].sort());
    expect(variantsOf(ptPresets)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'v2_rw_s']);
  });

  it('gives Lite and V2 TensorFlow ports mean and std 0.5, except V2-B0..B2 trained on ImageNet-1k alone', () => {
    for (const p of tfPresets.filter((q) => q.variant.startsWith('lite') || q.variant.startsWith('v2_'))) {
      const imagenet = /^v2_b[012]$/.test(p.variant) || p.name === 'tf_efficientnetv2_b3.in1k';
      expect(p.mean, p.name).toEqual(imagenet ? [0.485, 0.456, 0.406] : [0.5, 0.5, 0.5]);
    }
    expect(findPreset('tf_efficientnet_lite4.in1k')).toMatchObject({ inputSize: 380, cropPct: 0.92, interpolation: 'bilinear' });
    expect(findPreset('tf_efficientnetv2_m')).toMatchObject({ inputSize: 384, testInputSize: 480, cropPct: 1.0, cropMode: 'squash' });
  });

  it("evaluates TensorFlow ports at the variant's native resolution unless the tag names another", () => {
    for (const p of tfPresets) {
      const resolutionInTag = /_(\d+)$/.exec(tagOf(p.name));
      const expected = resolutionInTag ? Number(resolutionInTag[1]) : VARIANTS[p.variant].resolution;
      expect(p.testInputSize ?? p.inputSize, p.name).toBe(expected);
    }
  });

  it('cannot be changed by a caller', () => {
    for (const p of PRESETS) {
      expect(Object.isFrozen(p) && Object.isFrozen(p.mean) && Object.isFrozen(p.std), p.name).toBe(true);
    }
    expect(Object.isFrozen(PRESETS)).toBe(true);
  });

  // Values read from timm/models/efficientnet.py default_cfgs and the _cfg defaults.
  it('matches spot-checked values from timm', () => {
    expect(findPreset('tf_efficientnet_b0.ns_jft_in1k')).toMatchObject({
      variant: 'b0', inputSize: 224, cropPct: 0.875, interpolation: 'bicubic', cropMode: 'center',
      mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], license: 'apache-2.0',
    });
    expect(findPreset('tf_efficientnet_l2.ns_jft_in1k_475')).toMatchObject({
      variant: 'l2', inputSize: 475, cropPct: 0.936,
    });
    expect(findPreset('tf_efficientnet_l2.ns_jft_in1k')).toMatchObject({ inputSize: 800, cropPct: 0.96 });
    expect(findPreset('tf_efficientnet_b8.ap_in1k')).toMatchObject({
      inputSize: 672, cropPct: 0.954, mean: [0.5, 0.5, 0.5],
    });
    expect(findPreset('efficientnet_b3.ra2_in1k')).toMatchObject({
      inputSize: 288, cropPct: 0.875, testInputSize: 320, testCropPct: 1.0,
    });
    expect(findPreset('efficientnet_b0.ra4_e3600_r224_in1k')).toMatchObject({
      inputSize: 224, cropPct: 0.9, testInputSize: 256, testCropPct: 1.0, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5],
    });
    expect(findPreset('efficientnet_b5.sw_in12k_ft_in1k')).toMatchObject({
      inputSize: 448, cropPct: 1.0, cropMode: 'squash',
    });
    expect(findPreset('tf_efficientnet_b0.ns_jft_in1k').testInputSize).toBeUndefined();
  });
});

describe('findPreset', () => {
  it('finds every preset by full name and by hub id', () => {
    for (const p of PRESETS) {
      expect(findPreset(p.name)).toBe(p);
      expect(findPreset(p.hubId!)).toBe(p);
    }
  });

  it('resolves a bare architecture to the first tag listed for it', () => {
    const architectures = new Set(PRESET_NAMES.map(architectureOf));
    for (const architecture of architectures) {
      const firstListed = PRESETS.find((p) => architectureOf(p.name) === architecture);
      expect(findPreset(architecture), architecture).toBe(firstListed);
    }
  });

  // timm's defaults, from the order of its default_cfgs table.
  it.each([
    ['tf_efficientnet_b0', 'tf_efficientnet_b0.ns_jft_in1k'],
    ['tf_efficientnet_b8', 'tf_efficientnet_b8.ap_in1k'],
    ['tf_efficientnet_l2', 'tf_efficientnet_l2.ns_jft_in1k_475'],
    ['efficientnet_b0', 'efficientnet_b0.ra_in1k'],
    ['efficientnet_b1', 'efficientnet_b1.ra4_e3600_r240_in1k'],
    ['efficientnet_b5', 'efficientnet_b5.sw_in12k_ft_in1k'],
  ])('resolves %s to timm default %s', (bare, full) => {
    expect(findPreset(bare).name).toBe(full);
  });

  it.each([
    ['tf_efficientnet_b9', 'tf_efficientnet_b8'],
    ['tf_efficientnet_b0.ap', 'tf_efficientnet_b0.ap_in1k'],
    ['efficientnet_b0.ns_jft_in1k', 'tf_efficientnet_b0.ns_jft_in1k'],
    ['tf_efficientnet_b0.ns_jft_in1k_', 'tf_efficientnet_b0.ns_jft_in1k'],
  ])('rejects %s with ConfigError suggesting %s', (unknown, suggestion) => {
    expect(() => findPreset(unknown)).toThrow(ConfigError);
    expect(() => findPreset(unknown)).toThrow(`"${suggestion}"`);
  });

  it('lists the known architectures when nothing is close', () => {
    expect(() => findPreset('resnet50')).toThrow(ConfigError);
    expect(() => findPreset('resnet50')).toThrow(/known architectures: .*tf_efficientnet_l2/);
  });

  it('rejects architectures timm has no weights for', () => {
    expect(() => findPreset('efficientnet_b6')).toThrow(ConfigError);
    expect(() => findPreset('efficientnet_b6.untrained')).toThrow(ConfigError);
  });
});
