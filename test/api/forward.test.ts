/**
 * The whole network on the SIMD core against the same network on the scalar twins, plus the
 * guarantees of the forward API: determinism, batch independence, clear refusals.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { ConfigError, InputShapeError, ResourceLimitError, WeightsMismatchError } from '../../src/errors.js';
import { mulberry32, randomFloats } from '../support/random.js';

/**
 * Tolerance between the core (float32 sums in a fixed order, polynomial exp) and the twins
 * (float64 sums, Math.exp): each of b0's ~50 convs adds a relative error of roughly
 * K * 2^-24 (K <= 1152 terms) on its outputs, and the exp approximation adds a few ulp per
 * activation. Compounded, that is of order 1e-5 relative to the logit scale; we allow 2e-4 so the
 * test is about correctness, not luck, while a wrong tap, padding or fold (errors of order 1e-1)
 * fails it by three orders of magnitude.
 */
const RELATIVE_TOLERANCE = 2e-4;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('b0 forward', () => {
  const weights = createSyntheticWeights({ variant: 'b0', seed: 11 });
  let wasm: EfficientNet;
  beforeAll(async () => {
    wasm = await EfficientNet.create({ variant: 'b0', weights });
  });

  it.each([
    ['same', [1, 3, 67, 45]],
    ['same', [2, 3, 32, 32]],
    ['symmetric', [1, 3, 57, 70]],
    ['symmetric', [1, 3, 1, 1]],
  ] as const)('matches the reference twins with %s padding at %j', async (padding, shape) => {
    const a = await EfficientNet.create({ variant: 'b0', weights, padding });
    const b = await EfficientNet.create({ variant: 'b0', weights, padding, backend: 'reference' });
    const input = randomFloats(mulberry32(shape[2] * 131 + shape[3]), shape[0] * 3 * shape[2] * shape[3], 2);
    const [x, y] = [await a.forward(input, shape), await b.forward(input, shape)];
    expect(x.logits.length).toBe(shape[0] * 1000);
    expect(x.features.length).toBe(shape[0] * 1280);
    expect(maxAbsDiff(x.logits, y.logits)).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxAbs(y.logits));
    expect(maxAbsDiff(x.features, y.features)).toBeLessThanOrEqual(RELATIVE_TOLERANCE * maxAbs(y.features));
  });

  it('gives the same bytes on every run, in a fresh instance too', async () => {
    const input = randomFloats(mulberry32(5), 3 * 40 * 40, 2);
    const first = await wasm.forward(input, [1, 3, 40, 40]);
    await wasm.forward(randomFloats(mulberry32(6), 3 * 50 * 30, 2), [1, 3, 50, 30]);
    const again = await wasm.forward(input, [1, 3, 40, 40]);
    const fresh = await (await EfficientNet.create({ variant: 'b0', weights })).forward(input, [1, 3, 40, 40]);
    expect(bytesOf(again.logits).equals(bytesOf(first.logits))).toBe(true);
    expect(bytesOf(fresh.logits).equals(bytesOf(first.logits))).toBe(true);
  });

  it('computes each image of a batch exactly as it would alone', async () => {
    const rng = mulberry32(9);
    const images = [randomFloats(rng, 3 * 36 * 28, 2), randomFloats(rng, 3 * 36 * 28, 2), randomFloats(rng, 3 * 36 * 28, 2)];
    const batch = new Float32Array(images.length * images[0].length);
    images.forEach((image, i) => batch.set(image, i * image.length));
    const together = await wasm.forward(batch, [3, 3, 36, 28]);
    for (let i = 0; i < images.length; i++) {
      const alone = await wasm.forward(images[i], [1, 3, 36, 28]);
      expect(bytesOf(together.logits.subarray(i * 1000, (i + 1) * 1000)).equals(bytesOf(alone.logits))).toBe(true);
    }
  });

  it('queues concurrent calls and returns each its own result', async () => {
    const inputs = [1, 2, 3].map((seed) => randomFloats(mulberry32(seed), 3 * 32 * 32, 2));
    const sequential: Awaited<ReturnType<EfficientNet["forward"]>>[] = [];
    for (const x of inputs) sequential.push(await wasm.forward(x, [1, 3, 32, 32]));
    const concurrent = await Promise.all(inputs.map((x) => wasm.forward(x, [1, 3, 32, 32])));
    concurrent.forEach((r, i) => expect(bytesOf(r.logits).equals(bytesOf(sequential[i].logits))).toBe(true));
  });

  it('refuses bad inputs with InputShapeError and keeps working afterwards', async () => {
    const input = randomFloats(mulberry32(3), 3 * 32 * 32, 2);
    const before = await wasm.forward(input, [1, 3, 32, 32]);
    await expect(wasm.forward(input, [1, 3, 32, 31])).rejects.toThrow(InputShapeError);
    await expect(wasm.forward(input, [1, 1, 32, 32])).rejects.toThrow(/3 channels/);
    await expect(wasm.forward(input, [1, 3, 32])).rejects.toThrow(InputShapeError);
    await expect(wasm.forward(new Float64Array(3072) as unknown as Float32Array, [1, 3, 32, 32])).rejects.toThrow(InputShapeError);
    const after = await wasm.forward(input, [1, 3, 32, 32]);
    expect(bytesOf(after.logits).equals(bytesOf(before.logits))).toBe(true);
  });

  it('refuses an input whose activations would not fit in wasm32 memory, naming the need', async () => {
    await expect(wasm.forward(new Float32Array(1), [64, 3, 2048, 2048])).rejects.toThrow(ResourceLimitError);
    await expect(wasm.forward(new Float32Array(1), [64, 3, 2048, 2048])).rejects.toThrow(/GiB.*4 GiB wasm32 limit/);
    const input = randomFloats(mulberry32(4), 3 * 32 * 32, 2);
    expect((await wasm.forward(input, [1, 3, 32, 32])).logits.length).toBe(1000);
  });
});

describe('EfficientNet.create', () => {
  it('refuses the weights of another variant before building anything', async () => {
    const b1 = createSyntheticWeights({ variant: 'b1', seed: 1 });
    await expect(EfficientNet.create({ variant: 'b0', weights: b1 })).rejects.toThrow(WeightsMismatchError);
    await expect(EfficientNet.create({ variant: 'b2', weights: b1 })).rejects.toThrow(/different variant/);
  });
  it('takes a timm checkpoint name and its padding and BN eps', async () => {
    const weights = createSyntheticWeights({ variant: 'b0', seed: 2 });
    const tf = await EfficientNet.create({ model: 'tf_efficientnet_b0.ns_jft_in1k', weights });
    const pt = await EfficientNet.create({ model: 'efficientnet_b0.ra_in1k', weights });
    expect([tf.padding, tf.bnEps]).toEqual(['same', 1e-3]);
    expect([pt.padding, pt.bnEps]).toEqual(['symmetric', 1e-5]);
    const input = randomFloats(mulberry32(8), 3 * 32 * 32, 2);
    const [a, b] = [await tf.forward(input, [1, 3, 32, 32]), await pt.forward(input, [1, 3, 32, 32])];
    expect(maxAbsDiff(a.logits, b.logits)).toBeGreaterThan(1e-3); // the padding families really differ
  });
  it('refuses contradictory or unknown options with ConfigError', async () => {
    const weights = createSyntheticWeights({ variant: 'b0', seed: 2 });
    await expect(EfficientNet.create({ weights })).rejects.toThrow(ConfigError);
    await expect(EfficientNet.create({ variant: 'b0', model: 'tf_efficientnet_b0', weights })).rejects.toThrow(ConfigError);
    await expect(EfficientNet.create({ variant: 'b9' as 'b0', weights })).rejects.toThrow(/unknown variant/);
    await expect(EfficientNet.create({ model: 'tf_efficientnet_b9', weights })).rejects.toThrow(ConfigError);
    await expect(EfficientNet.create({ variant: 'b0', weights, bnEps: -1 })).rejects.toThrow(/bnEps/);
    await expect(EfficientNet.create({ variant: 'b0', weights, padding: 'valid' as 'same' })).rejects.toThrow(/padding/);
  });
});
