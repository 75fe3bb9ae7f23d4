/**
 * The project's SIMD core against an independent implementation, the TensorFlow.js reference
 * forward pass (test/support/tfjs-efficientnet.ts), on synthetic weights for every variant (B0 to
 * L2, Lite0 to Lite4, EfficientNetV2), block by block. Also checks the reference's own bookkeeping (padding rules, batching,
 * shapes) and the synthetic weights' contract that activations stay of order one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { networkLayers } from '../../src/arch/layers.js';
import { buildNetwork, type NetworkSpec } from '../../src/arch/network.js';
import { VARIANT_NAMES, type VariantName } from '../../src/arch/variants.js';
import { InputShapeError, WeightsMismatchError } from '../../src/errors.js';
import { EfficientNet } from '../../src/efficientnet.js';
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
  lite0: 64, lite1: 64, lite2: 64, lite3: 48, lite4: 48,
  v2_b0: 64, v2_b1: 64, v2_b2: 48, v2_b3: 48, v2_s: 48, v2_m: 32, v2_l: 32, v2_xl: 32, v2_rw_s: 48,
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

/**
 * How far the core may stray from TensorFlow.js, relative to the largest magnitude of the tensor
 * compared. Both compute in float32 but sum in different orders (the core adds products k = 0..K-1
 * into one accumulator; tfjs blocks its matmuls and convolutions differently), and the core's exp is
 * a polynomial within 1.5e-7 relative while tfjs uses Math.exp. Each layer adds relative error of
 * order sqrt(K) * 2^-24 with K up to ~8000 (L2), and it compounds over up to 88 blocks; measured,
 * the worst case over every block, both paddings and all ten variants is 3.5e-6 (L2). 1e-4 leaves
 * a factor of about 30, while a wrong tap, pad or fold changes results by 1e-1 or more.
 */
const CORE_TOLERANCE = 1e-4;

const maxAbs = (values: Float32Array): number => values.reduce((max, v) => Math.max(max, Math.abs(v)), 0);

/** NHWC [n, h, w, c] -> NCHW [n, c, h, w], to compare the core's checkpoints with the reference's. */
function nhwcToNchw(data: Float32Array, [n, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length); // [n, c, h, w]
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    out[((b * c + ch) * h + y) * w + x] = data[((b * h + y) * w + x) * c + ch];
  }
  return out;
}

/**
 * Runs the core on the same weights and input and compares it with the reference block by block,
 * then features and logits, like a layer-by-layer golden-tensor report: the first label that
 * fails is where the two implementations part ways.
 */
async function expectCoreMatches(
  weights: Uint8Array, variant: VariantName, input: Float32Array, shape: readonly [number, number, number, number],
  options: { padding: 'same' | 'symmetric'; bnEps: number }, reference: TfjsForwardResult,
): Promise<number> {
  const net = await EfficientNet.create({ variant, weights, padding: options.padding, bnEps: options.bnEps });
  const blocks = new Map<string, Float32Array>();
  const core = await net.forward(input, shape, {
    onCheckpoint: (checkpoint, data, dims) => {
      if (checkpoint.module.startsWith('blocks.')) blocks.set(checkpoint.module, nhwcToNchw(data, dims));
    },
  });
  net.dispose();
  let worst = 0;
  const compare = (label: string, ours: Float32Array, theirs: Float32Array): void => {
    expect(ours.length, label).toBe(theirs.length);
    const relative = maxAbsDiff(ours, theirs) / maxAbs(theirs);
    worst = Math.max(worst, relative);
    expect(relative, `${variant} ${options.padding} ${label}: max |core - tfjs| / max |tfjs|`).toBeLessThanOrEqual(CORE_TOLERANCE);
  };
  if (reference.blocks) for (const [name, theirs] of reference.blocks) compare(name, blocks.get(name)!, theirs);
  compare('features', core.features, reference.features);
  compare('logits', core.logits, reference.logits);
  return worst;
}

async function runBoth(variant: VariantName): Promise<{ network: NetworkSpec; same: TfjsForwardResult; symmetric: TfjsForwardResult }> {
  const network = buildNetwork(variant);
  const weights = createSyntheticWeights({ variant, seed: SEED });
  const file = parseSafetensors(weights);
  const size = RESOLUTION[variant];
  const shape = [BATCH, 3, size, size] as const;
  const input = testImages(size);
  const same = await tfjsForward(network, file, input, shape, { ...SAME, keepBlocks: true });
  const worstSame = await expectCoreMatches(weights, variant, input, shape, SAME, same);
  const symmetric = await tfjsForward(network, file, input, shape, { ...SYMMETRIC, keepBlocks: true });
  const worstSymmetric = await expectCoreMatches(weights, variant, input, shape, SYMMETRIC, symmetric);
  console.log(`core vs tfjs, ${variant} at ${size}: worst relative difference ${worstSame.toExponential(1)} (same), ${worstSymmetric.toExponential(1)} (symmetric)`);
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

describe('core against the tfjs reference', () => {
  it.each(['same', 'symmetric'] as const)('b0 at 224 agrees block by block with %s padding', async (padding) => {
    const weights = createSyntheticWeights({ variant: 'b0', seed: SEED });
    const options = padding === 'same' ? SAME : SYMMETRIC;
    const input = testImages(224);
    const shape = [BATCH, 3, 224, 224] as const;
    const reference = await tfjsForward(buildNetwork('b0'), parseSafetensors(weights), input, shape, { ...options, keepBlocks: true });
    const worst = await expectCoreMatches(weights, 'b0', input, shape, options, reference);
    console.log(`core vs tfjs, b0 at 224 (${padding}): worst relative difference ${worst.toExponential(1)}`);
  });
});

describe('core and tfjs reference on synthetic weights, every variant', () => {
  it.each(VARIANT_NAMES)('%s: core matches the reference, the synthetic contract holds under both paddings, which differ', async (variant) => {
    const { network, same, symmetric } = await runBoth(variant);
    expectContract(network, RESOLUTION[variant], same);
    expectContract(network, RESOLUTION[variant], symmetric);
    // The padding families read different border pixels at every stride-2 layer on even sizes:
    // measured, the largest logit difference is 0.78 to 1.6 logit stds for Lite (ReLU6 and no SE:
    // less of the border reaches the logits) and above 1 for every other variant (2.2 to 4.4 for
    // B0-L2, V2-L and V2-XL). BN eps alone (1e-3 vs 1e-5)
    // moves logits by about 0.08 std, so half a std fails if one padding rule were used for both.
    const paddingEffect = maxAbsDiff(same.logits, symmetric.logits) / std(same.logits);
    console.log(`${variant}: the padding family moves logits by up to ${paddingEffect.toFixed(2)} logit stds`);
    expect(paddingEffect).toBeGreaterThan(0.5);
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
