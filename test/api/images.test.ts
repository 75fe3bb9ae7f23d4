/**
 * Photos in, answers out: classify, embed and features on the bundled photos with synthetic weights.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { buildNetwork } from '../../src/arch/network.js';
import { IMAGENET_CLASS_NAMES } from '../../src/image/imagenet-classes.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { ConfigError, ImageDecodeError } from '../../src/errors.js';

const photo = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../data/images/${name}`, import.meta.url)));
const PHOTOS = ['chelsea.png', 'grace_hopper.jpg', 'panda.jpg'].map(photo);

describe('class names', () => {
  it('ship the 1000 ImageNet names in the standard order', () => {
    const text = readFileSync(new URL('../../data/imagenet-classes.txt', import.meta.url), 'utf8').trimEnd().split('\n');
    expect(IMAGENET_CLASS_NAMES).toEqual(text);
    expect(IMAGENET_CLASS_NAMES[388]).toMatch(/giant panda/);
  });
});

describe('b0 on photos', () => {
  let net: EfficientNet;
  beforeAll(async () => {
    net = await EfficientNet.create({ model: 'tf_efficientnet_b0.ns_jft_in1k', weights: createSyntheticWeights({ variant: 'b0', seed: 4 }) });
  });

  it('returns the top k sorted, with labels, from a softmax over all classes', async () => {
    const top = await net.classify(PHOTOS[2], { topk: 7 });
    expect(top.length).toBe(7);
    for (let i = 1; i < top.length; i++) expect(top[i - 1].probability).toBeGreaterThanOrEqual(top[i].probability);
    for (const p of top) expect(p.label).toBe(IMAGENET_CLASS_NAMES[p.index]);
    const all = await net.classify(PHOTOS[2], { topk: 1000 });
    const sum = all.reduce((s, p) => s + p.probability, 0);
    expect(Math.abs(sum - 1)).toBeLessThan(1e-5); // 1000 float32 terms: rounding stays far below this
    expect(new Set(all.map((p) => p.index)).size).toBe(1000);
    expect(all.slice(0, 7)).toEqual(top);
  });

  it('classifies a batch exactly as one image at a time', async () => {
    const batch = await net.classify(PHOTOS, { topk: 5 });
    expect(batch.length).toBe(3);
    for (let i = 0; i < PHOTOS.length; i++) expect(batch[i]).toEqual(await net.classify(PHOTOS[i], { topk: 5 }));
  });

  it('embeds to the pooled features of forward on the preprocessed image', async () => {
    const embedding = await net.embed(PHOTOS[0]);
    const { input, shape } = await net.preprocessImages([PHOTOS[0]]);
    expect(shape).toEqual([1, 3, 224, 224]);
    const { features } = await net.forward(input, shape);
    expect(embedding.length).toBe(1280);
    expect(Buffer.from(embedding.buffer).equals(Buffer.from(features.buffer))).toBe(true);
  });

  it('accepts decoded RGBA pixels as well as encoded bytes', async () => {
    const rgba = new Uint8ClampedArray(40 * 30 * 4).map((_, i) => (i * 37) % 256);
    const rgb = new Uint8Array(40 * 30 * 3);
    for (let p = 0; p < 40 * 30; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = rgba[p * 4 + c];
    const fromRgba = await net.classify({ data: rgba, width: 40, height: 30 });
    const fromRgb = await net.classify({ data: rgb, width: 40, height: 30 });
    expect(fromRgba).toEqual(fromRgb);
  });

  it('refuses broken images and bad options with typed errors', async () => {
    await expect(net.classify(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 1]))).rejects.toThrow(ImageDecodeError);
    await expect(net.classify(new Uint8Array(0))).rejects.toThrow(ImageDecodeError);
    await expect(net.classify(PHOTOS[0], { topk: 0 })).rejects.toThrow(ConfigError);
    expect((await net.classify(PHOTOS[0], { topk: 1 })).length).toBe(1);
  });
});

describe.each([
  ['b0', 'tf_efficientnet_b0.ns_jft_in1k'],
  ['b3', 'efficientnet_b3.ra2_in1k'],
] as const)('%s feature maps', (variant, model) => {
  it('come at strides 2 to 32 with the stage widths, like timm features_only', async () => {
    const net = await EfficientNet.create({ model, weights: createSyntheticWeights({ variant, seed: 1 }) });
    const maps = await net.features(PHOTOS[1]);
    const size = net.recipe.size;
    const blocks = buildNetwork(variant).blocks;
    const lastOfStage = (stage: number) => blocks.filter((b) => b.stage === stage).at(-1)!;
    expect(maps.map((m) => m.stride)).toEqual([2, 4, 8, 16, 32]);
    expect(maps.map((m) => m.name)).toEqual([0, 1, 2, 4, 6].map((s) => lastOfStage(s).name));
    for (const m of maps) {
      expect(m.height).toBe(Math.ceil(size / m.stride));
      expect(m.width).toBe(Math.ceil(size / m.stride));
      expect(m.data.length).toBe(m.channels * m.height * m.width);
      expect(m.data.every(Number.isFinite)).toBe(true);
    }
    expect(maps.map((m) => m.channels)).toEqual([0, 1, 2, 4, 6].map((s) => lastOfStage(s).outChannels));
  });
});
