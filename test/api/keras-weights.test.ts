/**
 * Keras .h5 files through the public API: `EfficientNet.create` finds the HDF5 reader by the
 * file's magic bytes, maps Keras's names and layouts, and gives the same logits, bit for bit, as
 * the timm safetensors the fixture was written from (scripts/make-keras-fixtures.py). The file's
 * `normalization` layer becomes the preprocessing recipe's mean and std.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { weightsDownloadHint } from '../../src/arch/preset-download.js';
import { findPreset } from '../../src/arch/presets.js';
import { EfficientNet } from '../../src/efficientnet.js';
import { WeightsMismatchError } from '../../src/errors.js';
import { memoryByteSource } from '../../src/weights/byte-source.js';
import { openKerasH5 } from '../../src/weights/hdf5/keras-h5.js';
import { toTimmNaming } from '../../src/weights/naming/index.js';
import { detectFormat, openWeights } from '../../src/weights/open.js';
import { mulberry32, randomFloats } from '../support/random.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/keras/${name}`, import.meta.url)));

/** The network the fixtures were made for (see the script's header). */
const TINY = { width: 0.1, depth: 0.34, resolution: 64, dropout: 0.2 };
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

describe('Keras .h5 weights through EfficientNet.create', () => {
  const models: EfficientNet[] = [];
  const create = async (weights: Uint8Array, extra: object = {}): Promise<EfficientNet> => {
    const model = await EfficientNet.create({ variant: TINY, weights, ...extra });
    models.push(model);
    return model;
  };
  afterAll(() => models.forEach((model) => model.dispose()));

  it('is recognised as HDF5 by its first bytes, and its names as Keras\'s', async () => {
    expect(detectFormat(fixture('tiny-weights.h5').subarray(0, 16))).toBe('hdf5');
    const opened = await openWeights(fixture('tiny-model.h5'));
    expect(opened.format).toBe('hdf5');
    const named = await toTimmNaming(opened);
    expect(named.naming).toBe('keras');
    expect(named.source.tensors.has('blocks.1.0.conv_pwl.weight')).toBe(true);
  });

  it.each(['tiny-weights.h5', 'tiny-model.h5'])('%s gives the timm file\'s logits bit for bit', async (name) => {
    const timm = await create(fixture('tiny.safetensors'));
    const keras = await create(fixture(name));
    expect(keras.numClasses).toBe(10);
    const shape = [2, 3, TINY.resolution, TINY.resolution];
    const input = randomFloats(mulberry32(41), shape.reduce((a, b) => a * b), 1); // [2, 3, 64, 64]
    const expected = await timm.forward(input, shape);
    const actual = await keras.forward(input, shape);
    // Same float32 weights in the same packed layout, so the same bits, not merely close values.
    expect(actual.logits).toEqual(expected.logits);
    expect(actual.features).toEqual(expected.features);
    // The logits are not trivially equal (all zero, say): they vary across classes.
    expect(new Set(actual.logits).size).toBeGreaterThan(10);
  });

  it('a _notop file builds a model without a classifier whose features are the timm file\'s', async () => {
    const timm = await create(fixture('tiny.safetensors'));
    const notop = await create(fixture('tiny-notop-weights.h5'));
    expect(notop.numClasses).toBe(0);
    expect(notop.featureChannels).toBe(timm.featureChannels);
    const shape = [1, 3, TINY.resolution, TINY.resolution];
    const input = randomFloats(mulberry32(43), shape.reduce((a, b) => a * b), 1); // [1, 3, 64, 64]
    expect((await notop.forward(input, shape)).features).toEqual((await timm.forward(input, shape)).features);
    // embed and features run on an image through the file's recipe.
    const image = { width: 80, height: 70, data: new Uint8Array(80 * 70 * 4).map((_, i) => (i * 37) & 0xff) };
    expect((await notop.embed(image)).length).toBe(notop.featureChannels);
    expect((await notop.features(image)).map((map) => map.stride)).toEqual([2, 4, 8, 16, 32]);
  });

  it('the file\'s normalization layer becomes the recipe, unless preprocessing is given', async () => {
    const { normalization } = await openKerasH5(memoryByteSource(fixture('tiny-weights.h5')));
    const keras = await create(fixture('tiny-weights.h5'));
    expect(keras.recipe.mean).toEqual(normalization!.mean);
    expect(keras.recipe.std).toEqual(normalization!.std);
    expect(keras.recipe.mean).not.toEqual(IMAGENET_MEAN);
    // Everything else stays the default recipe's.
    expect(keras.recipe.size).toBe(TINY.resolution);

    const explicit = await create(fixture('tiny-weights.h5'), { preprocess: { size: 48 } });
    expect(explicit.recipe.mean).toEqual(IMAGENET_MEAN);
    expect(explicit.recipe.std).toEqual(IMAGENET_STD);
    expect(explicit.recipe.size).toBe(48);

    const timm = await create(fixture('tiny.safetensors'));
    expect(timm.recipe.mean).toEqual(IMAGENET_MEAN);
  });

  it('keras/EfficientNetB0 … B7 presets carry Keras\'s conventions', () => {
    const sizes = [224, 240, 260, 300, 380, 456, 528, 600];
    sizes.forEach((size, i) => {
      const preset = findPreset(`keras/EfficientNetB${i}`);
      expect(preset.variant).toBe(`b${i}`);
      expect(preset.padding).toBe('same');
      expect(preset.bnEps).toBe(1e-3);
      expect(preset.inputSize).toBe(size);
      // The TensorFlow reference crop, size / (size + 32), to timm's three decimals.
      expect(Math.abs(preset.cropPct - size / (size + 32))).toBeLessThan(0.0015);
      expect(preset.weightsUrl).toBe(`https://storage.googleapis.com/keras-applications/efficientnetb${i}.h5`);
    });
    // What the CLI tells a user without --weights.
    expect(weightsDownloadHint(findPreset('keras/EfficientNetB0')))
      .toBe('efficientnetb0.h5 from https://storage.googleapis.com/keras-applications/efficientnetb0.h5');
    expect(weightsDownloadHint(findPreset('tf_efficientnet_b0.ns_jft_in1k'))).toBe(
      'model.safetensors of "timm/tf_efficientnet_b0.ns_jft_in1k" from the Hugging Face hub (https://huggingface.co/timm/tf_efficientnet_b0.ns_jft_in1k/tree/main)',
    );
  });

  it('with a Keras preset, a file of another width is refused with the mismatch report', async () => {
    const error = await EfficientNet.create({ model: 'keras/EfficientNetB0', weights: fixture('tiny-weights.h5') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsMismatchError);
    expect((error as Error).message).not.toContain('\n');
  });
});
