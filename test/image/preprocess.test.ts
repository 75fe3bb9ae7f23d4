import { beforeAll, describe, expect, it } from 'vitest';
import { InputShapeError } from '../../src/errors.js';
import { decodeImage, type RgbImage } from '../../src/image/decode.js';
import { createPreprocessor, type Preprocessor } from '../../src/image/preprocess.js';
import { planResize, preprocessRecipe, type PreprocessRecipe } from '../../src/image/recipe.js';
import { resizeRgb8, rgb8NormalizeToNchw } from '../../src/runtime/reference/resize.js';
import { expectSameBits, expectWithin } from '../support/tolerance.js';
import { byteDifference, expectSameBytes, FIXTURES, goldenCases, randomImage, readRepoFile } from './support.js';

let preprocessor: Preprocessor;
beforeAll(async () => {
  preprocessor = await createPreprocessor();
});

/** The timm pipeline spelled out with the twin: a full resize of every pixel, then the crop. */
function twinCrop(image: RgbImage, recipe: PreprocessRecipe): Uint8Array {
  const plan = planResize(image.width, image.height, recipe);
  const resized = resizeRgb8(image.data, image.width, image.height, plan.resizeWidth, plan.resizeHeight, recipe.interpolation);
  const crop = new Uint8Array(plan.size * plan.size * 3); // [size, size, 3]
  for (let y = 0; y < plan.size; y++) {
    const from = ((plan.cropTop + y) * plan.resizeWidth + plan.cropLeft) * 3;
    crop.set(resized.subarray(from, from + plan.size * 3), y * plan.size * 3);
  }
  return crop;
}

describe('against Pillow (timm\'s eval transform)', () => {
  for (const c of goldenCases()) {
    const lossless = c.image.endsWith('.png');
    it(`${c.golden}: ${lossless ? 'the same bytes' : 'within one 8-bit level'} as Pillow, and the normalised tensor within one level / std`, async () => {
      const image = await decodeImage(readRepoFile(c.image));
      const golden = await decodeImage(readRepoFile(`${FIXTURES}${c.golden}`)); // [size, size, 3]
      const recipe = preprocessRecipe(c.preset ?? c.recipe);
      const crop = preprocessor.resizeAndCrop(image, recipe);
      const difference = byteDifference(crop.data, golden.data);
      // PNG decodes losslessly, so only the resize is compared: it must be Pillow's exactly. A
      // JPEG's pixels come from mozjpeg rather than libjpeg-turbo; decode.test.ts shows them
      // identical for these files, but the contract with another decoder build is one level.
      expect(difference.max, `${difference.differing} bytes differ`).toBeLessThanOrEqual(lossless ? 0 : 1);

      // torchvision's ToTensor + Normalize on Pillow's crop, in float32 as PyTorch computes it.
      const size = recipe.size;
      const expected = rgb8NormalizeToNchw(golden.data, size, size, recipe.mean, recipe.std); // [3, size, size]
      const tensor = preprocessor.preprocess(image, recipe);
      const plane = size * size;
      // One 8-bit level of input moves a value by 1 / 255 / std of its channel (plus float32 rounding
      // of values below 3, far under that step: 2^-22).
      expectWithin(tensor, expected, (i) => 1 / 255 / recipe.std[Math.floor(i / plane)] + 2 ** -22, c.golden);
      if (lossless) expectSameBits(tensor, expected, `${c.golden} bitwise`);
    });
  }

  it('the twin\'s full resize then crop gives Pillow\'s bytes too (PNG goldens)', async () => {
    for (const c of goldenCases().filter((g) => g.image.endsWith('.png'))) {
      const image = await decodeImage(readRepoFile(c.image));
      const golden = await decodeImage(readRepoFile(`${FIXTURES}${c.golden}`));
      expectSameBytes(twinCrop(image, c.recipe), golden.data, c.golden);
    }
  });
});

describe('computing only the kept window', () => {
  // The core resizes only the crop's columns and the source rows its rows read; the twin resizes
  // everything and then crops. Equal bytes prove the shortcut changes nothing, at the edges too.
  const shapes: [number, number][] = [[1, 1], [1, 37], [37, 1], [2, 3], [17, 5], [64, 64], [300, 451], [451, 300], [97, 1013]];
  const recipes: PreprocessRecipe[] = [
    preprocessRecipe({ size: 16, cropPct: 0.875 }),
    preprocessRecipe({ size: 15, cropPct: 0.9, interpolation: 'bilinear' }),
    preprocessRecipe({ size: 24, cropPct: 1, cropMode: 'squash' }),
    preprocessRecipe({ size: 31, cropPct: 0.7, interpolation: 'bilinear', cropMode: 'squash' }),
    preprocessRecipe('tf_efficientnet_b3.ap_in1k'),
  ];
  let seed = 1;
  for (const [width, height] of shapes) {
    it(`${width}x${height}: equals the twin's full resize and crop for ${recipes.length} recipes, bytes and tensor`, () => {
      const image = randomImage(width, height, seed++);
      for (const recipe of recipes) {
        const label = `${recipe.size} ${recipe.cropPct} ${recipe.interpolation} ${recipe.cropMode}`;
        const expected = twinCrop(image, recipe);
        expectSameBytes(preprocessor.resizeAndCrop(image, recipe).data, expected, label);
        expectSameBits(
          preprocessor.preprocess(image, recipe),
          rgb8NormalizeToNchw(expected, recipe.size, recipe.size, recipe.mean, recipe.std),
          `${label} tensor`,
        );
      }
    });
  }
});

describe('batches and reuse', () => {
  it('a batch is the images\' tensors one after another, whatever their sizes', () => {
    const recipe = preprocessRecipe({ size: 20 });
    const images = [randomImage(40, 30, 1), randomImage(23, 77, 2), randomImage(20, 20, 3)];
    const batch = preprocessor.preprocessBatch(images, recipe);
    const plane = 3 * 20 * 20;
    expect(batch.length).toBe(images.length * plane);
    images.forEach((image, i) => expectSameBits(batch.subarray(i * plane, (i + 1) * plane), preprocessor.preprocess(image, recipe), `image ${i}`));
  });

  it('gives the same result after a larger image has grown the memory', () => {
    const recipe = preprocessRecipe({ size: 32 });
    const small = randomImage(50, 40, 9);
    const before = preprocessor.preprocess(small, recipe);
    preprocessor.preprocess(randomImage(1500, 1200, 10), recipe);
    expectSameBits(preprocessor.preprocess(small, recipe), before, 'after growth');
  });

  it('refuses image data whose length does not match its size', () => {
    expect(() => preprocessor.preprocess({ data: new Uint8Array(11), width: 2, height: 2 }, preprocessRecipe({ size: 8 }))).toThrow(InputShapeError);
    expect(() => preprocessor.preprocess({ data: new Uint8Array(20), width: 2, height: 2 }, preprocessRecipe({ size: 8 }))).toThrow(InputShapeError);
  });
});

describe('RGBA input', () => {
  it('gives the bytes and tensor of its RGB, whatever the alpha, for both filters and both crop modes', () => {
    for (const [width, height, seed] of [[1, 1, 1], [7, 5, 2], [61, 40, 3], [333, 250, 4], [250, 333, 5]]) {
      const rgb = randomImage(width, height, seed);
      const rgba = new Uint8ClampedArray(width * height * 4); // [height, width, 4], alpha from a different pattern
      for (let p = 0; p < width * height; p++) {
        rgba.set(rgb.data.subarray(p * 3, p * 3 + 3), p * 4);
        rgba[p * 4 + 3] = (p * 97 + seed) & 255;
      }
      for (const recipe of [
        preprocessRecipe({ size: 24 }),
        preprocessRecipe({ size: 17, interpolation: 'bilinear', cropMode: 'squash' }),
        preprocessRecipe({ size: Math.max(width, height) * 2, cropPct: 1 }),
      ]) {
        const label = `${width}x${height} -> ${recipe.size} ${recipe.interpolation} ${recipe.cropMode}`;
        expectSameBytes(preprocessor.resizeAndCrop({ data: rgba, width, height }, recipe).data, twinCrop(rgb, recipe), label);
        expectSameBits(preprocessor.preprocess({ data: rgba, width, height }, recipe), preprocessor.preprocess(rgb, recipe), label);
      }
    }
  });
});
