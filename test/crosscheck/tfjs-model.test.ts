/**
 * The TensorFlow.js reference forward pass (test/support/tfjs-efficientnet.ts) on synthetic
 * weights for every variant, B0 to L2: checks the reference's own bookkeeping (padding rules,
 * batching, shapes) and the synthetic weights' contract that activations stay of order one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { networkLayers } from '../../src/arch/layers.js';
import { buildNetwork, type NetworkSpec } from '../../src/arch/network.js';
import { VARIANT_NAMES, type VariantName } from '../../src/arch/variants.js';
import { InputShapeError, WeightsMismatchError } from '../../src/errors.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { tfjsForward, type TfjsForwardResult } from '../support/tfjs-efficientnet.js';

const SEED = 2019;
const BATCH = 2;

/**
 * Small inputs keep the CPU backend's time in check (L2 is 858M multiply-adds at 32). Sizes that
 * are not powers of two give SAME padding odd totals at some stride-2 layers.
 */
const RESOLUTION: Readonly<Record<VariantName, number>> = {
  b0: 64, b1: 64, b2: 64, b3: 64, b4: 48, b5: 48, b6: 48, b7: 32, b8: 32, l2: 32,
};

const SAME = { padding: 'same', bnEps: 1e-3 } as const;
const SYMMETRIC = { padding: 'symmetric', bnEps: 1e-5 } as const;

/** Smallest positive normal float32. */
const MIN_NORMAL_F32 = 2 ** -126;

/**
 * Two unit-variance images, [2, 3, size, size]: independent uniform noise, and a smooth image
 * (three plane waves per channel), the input kind that once made random networks explode.
 */
function testImages(size: number): Float32Array {
  const plane = size * size;
  const images = new Float32Array(BATCH * 3 * plane); // [2, 3, size, size]
  let state = 12345;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) | 0;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < 3 * plane; i++) images[i] = (2 * uniform() - 1) * Math.sqrt(3);
  for (let c = 0; c < 3; c++) {
    const waves = [1, 2, 3].map(() => ({ fx: uniform() * 0.3, fy: uniform() * 0.3, phase: uniform() * 6.3 }));
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const value = waves.reduce((sum, w) => sum + Math.sin(w.fx * x + w.fy * y + w.phase), 0);
        images[(3 + c) * plane + y * size + x] = value * Math.sqrt(2 / 3); // three unit-amplitude sines: variance 3/2
      }
    }
  }
  return images;
}

const std = (values: ArrayLike<number>): number => {
  const array = Array.from(values);
  const mean = array.reduce((a, b) => a + b, 0) / array.length;
  return Math.sqrt(array.reduce((a, b) => a + (b - mean) ** 2, 0) / array.length);
};
const rms = (values: Float32Array): number => Math.sqrt(values.reduce((a, b) => a + b * b, 0) / values.length);
const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i])), 0);
const isDenormal = (v: number): boolean => v !== 0 && Math.abs(v) < MIN_NORMAL_F32;

async function runBoth(variant: VariantName): Promise<{ network: NetworkSpec; same: TfjsForwardResult; symmetric: TfjsForwardResult }> {
  const network = buildNetwork(variant);
  const file = parseSafetensors(createSyntheticWeights({ variant, seed: SEED }));
  const size = RESOLUTION[variant];
  const shape = [BATCH, 3, size, size] as const;
  const input = testImages(size);
  const same = await tfjsForward(network, file, input, shape, { ...SAME, keepBlocks: true });
  const symmetric = await tfjsForward(network, file, input, shape, { ...SYMMETRIC, keepBlocks: true });
  return { network, same, symmetric };
}

/** The synthetic-weights contract, checked on one forward pass. */
function expectContract(network: NetworkSpec, size: number, result: TfjsForwardResult): void {
  const classes = network.numClasses;
  expect(result.logits.length).toBe(BATCH * classes);
  expect(result.logits.every(Number.isFinite)).toBe(true);
  expect(result.logits.some(isDenormal)).toBe(false);
  for (let image = 0; image < BATCH; image++) {
    // Designed for std of about 1 to 4; measured 1.0 to 2.5 for every variant, both images and
    // five seeds. [0.3, 30] leaves a factor 3 of margin, and a vanishing or exploding network fails.
    const logitStd = std(result.logits.subarray(image * classes, (image + 1) * classes));
    expect(logitStd).toBeGreaterThan(0.3);
    expect(logitStd).toBeLessThan(30);
  }

  const head = network.headChannels;
  expect(result.features.length).toBe(BATCH * head);
  expect(result.features.every(Number.isFinite)).toBe(true);
  expect(std(result.features)).toBeGreaterThan(0);
  expect(maxAbsDiff(result.features.subarray(0, head), result.features.subarray(head))).toBeGreaterThan(0);

  // Every block's output has the shape the architecture predicts and an RMS of order one:
  // measured 0.31 to 1.9 across variants, both images and five seeds, so [0.1, 10] leaves a
  // factor 3 of margin and still fails a network that vanishes or explodes.
  const layers = networkLayers(network, size);
  for (const block of network.blocks) {
    const last = layers.filter((l) => l.name.startsWith(`${block.name}.`)).at(-1)!;
    const [c, h, w] = last.output;
    const output = result.blocks!.get(block.name)!;
    expect(output.length, block.name).toBe(BATCH * c * h * w);
    expect(rms(output), block.name).toBeGreaterThan(0.1);
    expect(rms(output), block.name).toBeLessThan(10);
  }
}

describe('tfjs reference on synthetic weights', () => {
  it.each(VARIANT_NAMES)('%s: keeps the synthetic contract under both paddings, which differ', async (variant) => {
    const { network, same, symmetric } = await runBoth(variant);
    expectContract(network, RESOLUTION[variant], same);
    expectContract(network, RESOLUTION[variant], symmetric);
    // The padding families read different border pixels at every stride-2 layer on even sizes:
    // measured, the largest logit difference is 2.2 to 4 logit stds. BN eps alone (1e-3 vs 1e-5)
    // moves logits by about 0.08 std, so this fails if one padding rule were used for both.
    expect(maxAbsDiff(same.logits, symmetric.logits)).toBeGreaterThan(std(same.logits));
  });
});

describe('tfjs reference bookkeeping', () => {
  const network = buildNetwork('b0');
  const file = parseSafetensors(createSyntheticWeights({ variant: 'b0', seed: SEED }));

  it('gives identical results for both paddings when every stride-2 input is odd (33, 17, 9, 5, 3)', async () => {
    // With odd kernels TF SAME pads (k-1)/2 on each side at stride 1, and at stride 2 whenever
    // the input size is odd: the symmetric rule. At 33 every stride-2 layer sees an odd size, so
    // both paths multiply the same pixels in the same order and must agree to the last bit.
    const shape = [BATCH, 3, 33, 33] as const;
    const input = testImages(33);
    const same = await tfjsForward(network, file, input, shape, SAME);
    const symmetric = await tfjsForward(network, file, input, shape, { ...SYMMETRIC, bnEps: SAME.bnEps });
    expect(maxAbsDiff(same.logits, symmetric.logits)).toBe(0);
    // At 32 the stride-2 inputs are even, SAME puts its extra pixel after, and results differ
    // (measured: by about 4 logit stds).
    const evenShape = [BATCH, 3, 32, 32] as const;
    const evenInput = testImages(32);
    const sameEven = await tfjsForward(network, file, evenInput, evenShape, SAME);
    const symmetricEven = await tfjsForward(network, file, evenInput, evenShape, { ...SYMMETRIC, bnEps: SAME.bnEps });
    expect(maxAbsDiff(sameEven.logits, symmetricEven.logits)).toBeGreaterThan(std(sameEven.logits));
  });

  it('computes each image of a batch as if it were alone, and leaves no tensor behind', async () => {
    const size = 40;
    const images = testImages(size);
    const tensorsBefore = tf.memory().numTensors;
    const batch = await tfjsForward(network, file, images, [BATCH, 3, size, size], { ...SAME, keepBlocks: true });
    const second = await tfjsForward(network, file, images.subarray(3 * size * size), [1, 3, size, size], SAME);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    // Per-row matrix products and per-image pooling do the same operations in the same order.
    expect(maxAbsDiff(batch.logits.subarray(network.numClasses), second.logits)).toBe(0);
    expect(maxAbsDiff(batch.features.subarray(network.headChannels), second.features)).toBe(0);
  });

  it('rejects an input whose length does not match its shape', async () => {
    await expect(tfjsForward(network, file, new Float32Array(10), [1, 3, 32, 32], SAME)).rejects.toThrow(InputShapeError);
  });

  it('rejects weights of another variant before computing', async () => {
    await expect(tfjsForward(buildNetwork('b2'), file, testImages(32), [BATCH, 3, 32, 32], SAME)).rejects.toThrow(WeightsMismatchError);
  });
});
