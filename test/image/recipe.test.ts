import { describe, expect, it } from 'vitest';
import { findPreset, PRESETS } from '../../src/arch/presets.js';
import { ConfigError, ResourceLimitError } from '../../src/errors.js';
import { planResize, preprocessRecipe, type RecipeOptions } from '../../src/image/recipe.js';
import { goldenCases } from './support.js';

describe('preprocessRecipe', () => {
  it('copies every preset\'s training-size recipe, by preset object and by name', () => {
    for (const preset of PRESETS) {
      const recipe = preprocessRecipe(preset);
      expect(recipe).toEqual({
        size: preset.inputSize, cropPct: preset.cropPct, interpolation: preset.interpolation,
        cropMode: preset.cropMode ?? 'center', mean: preset.mean, std: preset.std,
      });
      expect(preprocessRecipe(preset.name)).toEqual(recipe);
    }
  });

  it('uses testInputSize and testCropPct only when asked, and only where the preset has them', () => {
    const withTest = PRESETS.filter((p) => p.testInputSize !== undefined);
    expect(withTest.length).toBeGreaterThan(0);
    for (const preset of withTest) {
      const recipe = preprocessRecipe(preset, { useTestSize: true });
      expect(recipe.size).toBe(preset.testInputSize);
      expect(recipe.cropPct).toBe(preset.testCropPct ?? preset.cropPct);
    }
    const without = PRESETS.find((p) => p.testInputSize === undefined)!;
    expect(preprocessRecipe(without, { useTestSize: true })).toEqual(preprocessRecipe(without));
  });

  it('agrees with the recipes the Pillow goldens were made with', () => {
    for (const c of goldenCases().filter((g) => g.preset !== null)) {
      expect(preprocessRecipe(c.preset!), c.preset!).toEqual(c.recipe);
    }
  });

  it('fills explicit options with timm\'s EfficientNet defaults', () => {
    const imagenet = findPreset('tf_efficientnet_b0.ns_jft_in1k');
    expect(preprocessRecipe({ size: 100 })).toEqual({
      size: 100, cropPct: 0.875, interpolation: 'bicubic', cropMode: 'center', mean: imagenet.mean, std: imagenet.std,
    });
    const options: RecipeOptions = { size: 64, cropPct: 1, interpolation: 'bilinear', cropMode: 'squash', mean: [0, 0, 0], std: [1, 2, 3] };
    expect(preprocessRecipe(options)).toEqual(options);
  });

  it('refuses unusable values with ConfigError', () => {
    const bad: RecipeOptions[] = [
      { size: 0 }, { size: 2.5 }, { size: -3 },
      { size: 8, cropPct: 0 }, { size: 8, cropPct: 1.2 }, { size: 8, cropPct: Number.NaN },
      { size: 8, interpolation: 'nearest' as 'bilinear' }, { size: 8, cropMode: 'border' as 'center' },
      { size: 8, mean: [0.5, 0.5] as unknown as [number, number, number] }, { size: 8, mean: [0, Infinity, 0] },
      { size: 8, std: [0.2, 0, 0.2] }, { size: 8, std: [0.2, -0.1, 0.2] },
    ];
    for (const options of bad) expect(() => preprocessRecipe(options), JSON.stringify(options)).toThrow(ConfigError);
    expect(() => preprocessRecipe('resnet50')).toThrow(ConfigError);
  });

  it('returns frozen recipes', () => {
    const recipe = preprocessRecipe({ size: 8 });
    expect(Object.isFrozen(recipe) && Object.isFrozen(recipe.mean) && Object.isFrozen(recipe.std)).toBe(true);
  });
});

describe('planResize', () => {
  it('matches the geometry Python computed for every golden (torchvision\'s int() and banker\'s round())', () => {
    for (const c of goldenCases()) {
      const plan = planResize(c.source.width, c.source.height, c.recipe);
      expect({ width: plan.resizeWidth, height: plan.resizeHeight }, c.golden).toEqual(c.resize);
      expect({ top: plan.cropTop, left: plan.cropLeft }, c.golden).toEqual(c.crop);
    }
  });

  it('gives the short side floor(size / cropPct) and truncates the long side of a center resize', () => {
    const recipe = preprocessRecipe({ size: 300, cropPct: 0.904 });
    const scale = Math.floor(300 / 0.904);
    for (const [width, height] of [[451, 300], [300, 451], [1000, 999], [7, 7], [1, 2000]]) {
      const plan = planResize(width, height, recipe);
      const [short, long] = width <= height ? [plan.resizeWidth, plan.resizeHeight] : [plan.resizeHeight, plan.resizeWidth];
      expect(short).toBe(scale);
      const exactLong = (scale * Math.max(width, height)) / Math.min(width, height);
      expect(long).toBeLessThanOrEqual(exactLong);
      expect(long).toBeGreaterThan(exactLong - 1);
    }
  });

  it('squashes both sides to the same scale whatever the aspect ratio', () => {
    const plan = planResize(640, 100, preprocessRecipe({ size: 192, cropPct: 0.9, cropMode: 'squash' }));
    expect([plan.resizeWidth, plan.resizeHeight]).toEqual([213, 213]);
  });

  it('centres the crop, an odd margin split to an even offset (round half to even)', () => {
    let oddMargins = 0;
    for (let resized = 10; resized < 40; resized++) {
      // floor(10 / cropPct) = floor(resized + 0.5) = resized, away from any rounding edge.
      const plan = planResize(resized, resized, preprocessRecipe({ size: 10, cropPct: 10 / (resized + 0.5), cropMode: 'squash' }));
      expect(plan.resizeWidth).toBe(resized);
      const margin = resized - 10;
      const candidates = margin % 2 === 0 ? [margin / 2] : [(margin - 1) / 2, (margin + 1) / 2].filter((o) => o % 2 === 0);
      if (margin % 2 === 1) oddMargins++;
      expect(candidates, `margin ${margin}`).toEqual([plan.cropLeft]);
      expect(plan.cropTop).toBe(plan.cropLeft);
    }
    expect(oddMargins).toBeGreaterThan(10);
  });

  it('refuses a resize whose long side would not fit a 32-bit index', () => {
    expect(() => planResize(1, 20_000_000, preprocessRecipe({ size: 224 }))).toThrow(ResourceLimitError);
    expect(() => planResize(0, 10, preprocessRecipe({ size: 224 }))).toThrow(ConfigError);
  });
});
