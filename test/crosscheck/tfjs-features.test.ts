/**
 * Feature maps and pooled embeddings of the core against the independent TensorFlow.js forward
 * pass (test/support/tfjs-efficientnet.ts), on inputs whose height and width differ, under both
 * padding families: every map `features` returns (strides 2 to 32), through `forward`'s
 * `featureMaps` (the same program and NCHW copy `features` uses) and through `features` itself.
 *
 * With height != width at every stride, a map copied with its axes swapped (or a width-major
 * layout) puts values in the wrong places, which the element-wise comparison catches; a negative
 * control below shows the comparison fails such a transposed map by orders of magnitude.
 */
import { describe, expect, it } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { EfficientNet, type FeatureMap } from '../../src/efficientnet.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { tfjsForward } from '../support/tfjs-efficientnet.js';

const SEED = 2019;
const PADDINGS = [
  { padding: 'same', bnEps: 1e-3 },
  { padding: 'symmetric', bnEps: 1e-5 },
] as const;
const SHAPES: readonly (readonly [number, number, number, number])[] = [[2, 3, 67, 45], [1, 3, 97, 131]];

/**
 * Largest |core - tfjs| allowed, relative to the largest magnitude of the tensor compared: the
 * bound the square cross-check (tfjs-model.test.ts) derives and uses. Both sides compute in
 * float32 and differ only in summation order and in exp (the core's is within 2.3e-7 relative),
 * which here measured at most 2.0e-6 over every map (1.3e-6 pooled); 1e-4 keeps a factor of 50, while a wrong
 * tap, pad, axis or fold moves values by 1e-1 of the largest or more.
 */
const TOLERANCE = 1e-4;

const maxAbs = (v: Float32Array): number => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const relativeDifference = (ours: Float32Array, theirs: Float32Array): number =>
  ours.reduce((m, x, i) => Math.max(m, Math.abs(x - theirs[i])), 0) / maxAbs(theirs);

/** Unit-variance test images `[n, 3, h, w]`: noise for the first, smooth plane waves for the others. */
function testImages([n, c, h, w]: readonly number[]): Float32Array {
  const plane = h * w;
  const data = new Float32Array(n * c * plane); // [n, 3, h, w]
  let state = 4242;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) | 0;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < c * plane; i++) data[i] = (2 * uniform() - 1) * Math.sqrt(3);
  for (let image = 1; image < n; image++) {
    for (let ch = 0; ch < c; ch++) {
      const [fx, fy, phase] = [uniform() * 0.4, uniform() * 0.4, uniform() * 6.3];
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(image * c + ch) * plane + y * w + x] = Math.SQRT2 * Math.sin(fx * x + fy * y + phase);
    }
  }
  return data;
}

/** The map with height and width swapped in its memory layout: what a copy with swapped axes would give. */
function transposed(map: FeatureMap, n: number): Float32Array {
  const { channels: c, height: h, width: w, data } = map;
  const out = new Float32Array(data.length); // [n, c, w, h] read as [n, c, h, w]
  for (let i = 0; i < n * c; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[i * h * w + x * h + y] = data[i * h * w + y * w + x];
  return out;
}

describe('feature maps and embeddings against tfjs on non-square inputs', () => {
  const network = buildNetwork('b0');
  const weights = createSyntheticWeights({ variant: 'b0', seed: SEED });
  const file = parseSafetensors(weights);

  for (const shape of SHAPES) {
    for (const options of PADDINGS) {
      it(`${shape.join('x')}, ${options.padding} padding: every map and the pooled embedding`, async () => {
        const [n, , h, w] = shape;
        const input = testImages(shape);
        const reference = await tfjsForward(network, file, input, shape, { ...options, keepBlocks: true });
        const net = await EfficientNet.create({ variant: 'b0', weights, ...options });
        const result = await net.forward(input, shape, { featureMaps: true });
        net.dispose();
        const maps = result.featureMaps!;
        expect(maps.map((m) => m.stride)).toEqual([2, 4, 8, 16, 32]);
        let worst = 0;
        for (const map of maps) {
          // Both paddings keep ceil(size / stride) at every stride-s layer of B0.
          expect([map.height, map.width], map.name).toEqual([Math.ceil(h / map.stride), Math.ceil(w / map.stride)]);
          const theirs = reference.blocks!.get(map.name)!;
          expect(map.data.length, map.name).toBe(theirs.length);
          const difference = relativeDifference(map.data, theirs);
          worst = Math.max(worst, difference);
          expect(difference, `${map.name} (stride ${map.stride})`).toBeLessThanOrEqual(TOLERANCE);
          // Negative control: the same map with its axes swapped is far outside the tolerance
          // (wherever the map is not 1 pixel along an axis, where a swap changes nothing).
          if (map.height > 1 && map.width > 1) expect(relativeDifference(transposed(map, n), theirs), `${map.name} transposed`).toBeGreaterThan(100 * TOLERANCE);
        }
        const pooled = relativeDifference(result.features, reference.features);
        expect(pooled, 'pooled embedding').toBeLessThanOrEqual(TOLERANCE);
        console.log(`core vs tfjs, b0 ${shape.join('x')} ${options.padding}: worst map ${worst.toExponential(1)}, pooled ${pooled.toExponential(1)}`);
      });
    }
  }

  it('features() of a photo equals the tfjs maps of its preprocessed tensor', async () => {
    const net = await EfficientNet.create({ model: 'tf_efficientnet_b0.ns_jft_in1k', weights });
    // A 45x67 RGBA pattern: features() takes images, decodes and preprocesses them to 224x224.
    const pixels = { width: 45, height: 67, data: Uint8Array.from({ length: 45 * 67 * 4 }, (_, i) => (i * 7919 + (i >> 7) * 31) % 256) };
    const maps = await net.features(pixels);
    const { input, shape } = await net.preprocessImages([pixels]);
    net.dispose();
    const reference = await tfjsForward(network, file, input, shape as [number, number, number, number], { padding: 'same', bnEps: 1e-3, keepBlocks: true });
    for (const map of maps) expect(relativeDifference(map.data, reference.blocks!.get(map.name)!), map.name).toBeLessThanOrEqual(TOLERANCE);
  });
});
