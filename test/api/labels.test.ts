/**
 * Class labels given to `EfficientNet.create`: a 10-class file written by torch.save
 * (test/fixtures/torch/, a torchvision-built network fine-tuned to 10 classes in shape) classifies
 * under the names given; a wrong count is refused with a ConfigError naming both counts; without
 * labels a 1000-class head is ImageNet's and any other is labelled by index.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { customScaling } from '../../src/arch/scaling.js';
import { EfficientNet, type CreateOptions } from '../../src/efficientnet.js';
import { ConfigError } from '../../src/errors.js';
import { IMAGENET_CLASS_NAMES } from '../../src/image/imagenet-classes.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/torch/${name}`, import.meta.url)));

/** The fixtures' network (scripts/make-weight-fixtures.py): width 0.25, depth 0.34, 10 classes, torchvision's conventions. */
const TINY = { variant: { width: 0.25, depth: 0.34, resolution: 64, dropout: 0.2 }, padding: 'symmetric', bnEps: 1e-5 } as const;
const FRUIT = ['apple', 'banana', 'cherry', 'date', 'elderberry', 'fig', 'grape', 'honeydew', 'kiwi', 'lemon'];

/** A small decoded RGB image (PixelData), so classify runs its whole path. */
const image = { width: 40, height: 30, data: Uint8Array.from({ length: 40 * 30 * 3 }, (_, i) => (i * 37) % 256) };

async function withNet<T>(options: CreateOptions, use: (net: EfficientNet) => Promise<T>): Promise<T> {
  const net = await EfficientNet.create(options);
  try {
    return await use(net);
  } finally {
    net.dispose();
  }
}

describe('labels given for a fine-tuned head', () => {
  it('a 10-class torch.save file classifies under the 10 names given, with the same ranking as unlabelled', async () => {
    const weights = fixture('timm-bf16.pth');
    const unlabelled = await withNet({ ...TINY, weights }, (net) => net.classify(image, { topk: 10 }));
    await withNet({ ...TINY, weights, labels: FRUIT }, async (net) => {
      expect(net.numClasses).toBe(10);
      expect(net.labels).toEqual(FRUIT);
      const predictions = await net.classify(image, { topk: 10 });
      // Every class once, each named by its own index's label; the labels change names only.
      expect(predictions.map((p) => p.index).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
      for (const p of predictions) expect(p.label).toBe(FRUIT[p.index]);
      expect(predictions.map(({ index, probability }) => ({ index, probability })))
        .toEqual(unlabelled.map(({ index, probability }) => ({ index, probability })));
      // Batches are labelled the same way.
      const [first] = await net.classify([image, image], { topk: 1 });
      expect(first[0]).toEqual(predictions[0]);
    });
  });

  it('keeps its own copy: changing the array afterwards changes nothing', async () => {
    const labels = [...FRUIT];
    await withNet({ ...TINY, weights: fixture('torchvision-zip.pth'), labels }, async (net) => {
      labels[0] = 'changed';
      expect(net.labels[0]).toBe('apple');
      expect(Object.isFrozen(net.labels)).toBe(true);
    });
  });

  it.each([
    ['too few', FRUIT.slice(0, 9), /9 labels were given but the weights' classifier has 10 classes/],
    ['too many', [...FRUIT, 'mango'], /11 labels were given but the weights' classifier has 10 classes/],
    ['none for a head of 10', [], /0 labels were given but the weights' classifier has 10 classes/],
  ])('refuses %s labels with a ConfigError naming both counts', async (_, labels, message) => {
    const created = EfficientNet.create({ ...TINY, weights: fixture('timm-bf16.pth'), labels });
    await expect(created).rejects.toThrow(ConfigError);
    await expect(EfficientNet.create({ ...TINY, weights: fixture('timm-bf16.pth'), labels })).rejects.toThrow(message);
  });

  it('refuses labels for a file without a classifier, saying it has none', async () => {
    await expect(EfficientNet.create({ ...TINY, weights: fixture('timm-headless.pth'), labels: FRUIT }))
      .rejects.toThrow(/10 labels were given but the weights have no classifier \(0 classes\)/);
  });

  it.each([
    ['a string', 'apple\nbanana', /labels must be an array of strings, one per class, got string/],
    ['an array holding a number', [...FRUIT.slice(0, 9), 10], /labels must all be strings, but label 9 is number/],
  ])('refuses labels given as %s with a ConfigError', async (_, labels, message) => {
    const created = EfficientNet.create({ ...TINY, weights: fixture('timm-bf16.pth'), labels: labels as unknown as string[] });
    await expect(created).rejects.toThrow(ConfigError);
    await expect(EfficientNet.create({ ...TINY, weights: fixture('timm-bf16.pth'), labels: labels as unknown as string[] })).rejects.toThrow(message);
  });
});

describe('labels by default', () => {
  it('a head of another size is labelled by index', async () => {
    await withNet({ ...TINY, weights: fixture('timm-bf16.pth') }, async (net) => {
      expect(net.labels).toEqual(Array.from({ length: 10 }, (_, i) => `class ${i}`));
      for (const p of await net.classify(image, { topk: 3 })) expect(p.label).toBe(`class ${p.index}`);
    });
  });

  it('a 1000-class head is ImageNet\'s, and labels given replace those too', async () => {
    // A small custom width keeps the file small; only the classifier's width matters here.
    const network = buildNetwork(customScaling(0.25, 0.34, 64), 1000);
    const weights = createSyntheticWeights({ variant: network, seed: 3 });
    const options = { variant: network.coefficients, padding: 'symmetric', bnEps: 1e-5, weights } as const;
    await withNet(options, async (net) => {
      expect(net.labels).toEqual(IMAGENET_CLASS_NAMES);
      for (const p of await net.classify(image, { topk: 3 })) expect(p.label).toBe(IMAGENET_CLASS_NAMES[p.index]);
    });
    const mine = Array.from({ length: 1000 }, (_, i) => `mine ${i}`);
    await withNet({ ...options, labels: mine }, async (net) => {
      expect(net.labels).toEqual(mine);
      for (const p of await net.classify(image, { topk: 3 })) expect(p.label).toBe(`mine ${p.index}`);
    });
  });
});
