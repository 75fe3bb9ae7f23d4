/**
 * The Keras .h5 reader and the Keras -> timm name mapping, on fixtures h5py wrote in Keras 2's
 * layouts (scripts/make-keras-fixtures.py) from the timm-named synthetic safetensors beside them.
 * The mapping under test and the script's conversion were written separately (the script goes
 * timm -> Keras, from Keras's efficientnet.py), so equal values are independent evidence.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { WeightsFormatError, WeightsMismatchError } from '../../src/errors.js';
import { memoryByteSource } from '../../src/weights/byte-source.js';
import { openKerasH5 } from '../../src/weights/hdf5/keras-h5.js';
import { isKerasNaming, kerasToTimm } from '../../src/weights/naming/keras.js';
import { readFloat32 } from '../../src/weights/read.js';
import { openSafetensors } from '../../src/weights/safetensors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import type { WeightSource } from '../../src/weights/source.js';

const FIXTURES = new URL('../fixtures/keras/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));
const open = (name: string): Promise<WeightSource> => openKerasH5(memoryByteSource(fixture(name)));

/** What the fixture script stored in the `normalization` layer (float32 values, as in the file). */
const STORED_MEAN = [0.5, 0.4, 0.3].map(Math.fround);
const STORED_VARIANCE = [0.2, 0.25, 0.3].map(Math.fround);
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** The network and seed the fixtures were made from (see the script's header). */
const TINY = { width: 0.1, depth: 0.34, resolution: 64, dropout: 0.2 };
const TINY_CLASSES = 10;
const TINY_SEED = 1234;

function expectSameTensors(mapped: WeightSource, timm: WeightSource, leaveOut: (name: string) => boolean = () => false): void {
  const expectedNames = [...timm.tensors.keys()].filter((name) => !leaveOut(name)).sort();
  expect([...mapped.tensors.keys()].sort()).toEqual(expectedNames);
  for (const name of expectedNames) {
    expect(mapped.tensors.get(name)!.shape, name).toEqual(timm.tensors.get(name)!.shape);
    // Bit for bit: the mapping only moves float32 values, it never computes with them.
    expect(readFloat32(mapped, name), name).toEqual(readFloat32(timm, name));
  }
}

describe('Keras .h5 weights', () => {
  const timm = openSafetensors(memoryByteSource(fixture('tiny.safetensors')));

  it('the committed timm file is still what createSyntheticWeights makes for the fixtures network', () => {
    // If the synthetic generator changes, rerun scripts/make-keras-fixtures.py.
    const made = createSyntheticWeights({ variant: buildNetwork(TINY, TINY_CLASSES), seed: TINY_SEED });
    expect(made).toEqual(fixture('tiny.safetensors'));
  });

  it('lists save_weights tensors under the names Keras writes, in its layouts', async () => {
    const source = await open('tiny-weights.h5');
    expect(source.format).toBe('hdf5');
    expect(source.tensors.get('stem_conv/kernel:0')!.shape).toEqual([3, 3, 3, 8]);
    expect(source.tensors.get('block1a_dwconv/depthwise_kernel:0')!.shape).toEqual([3, 3, 8, 1]);
    expect(source.tensors.get('predictions/kernel:0')!.shape).toEqual([128, TINY_CLASSES]);
    expect(source.tensors.get('normalization/count:0')!.dtype).toBe('I64');
    expect(source.metadata).toEqual({ keras_version: '2.13.1' });
    // Layers without weights (input_1, stem_conv_pad, *_activation, …) add no tensors.
    expect([...source.tensors.keys()].some((name) => /activation|_pad|input_1|rescaling/.test(name))).toBe(false);
    expect(isKerasNaming([...source.tensors.keys()])).toBe(true);
    expect(isKerasNaming([...timm.tensors.keys()])).toBe(false);
  });

  it.each(['tiny-weights.h5', 'tiny-model.h5'])('%s maps onto the timm file bit for bit', async (name) => {
    expectSameTensors(kerasToTimm(await open(name)), timm);
  });

  it('a _notop file has everything but the classifier', async () => {
    const mapped = kerasToTimm(await open('tiny-notop-weights.h5'));
    expectSameTensors(mapped, timm, (name) => name.startsWith('classifier.'));
  });

  it('save_weights: the normalisation follows the ImageNet build (Normalization, then Rescaling by 1/sqrt(ImageNet std))', async () => {
    const { normalization } = await open('tiny-weights.h5');
    expect(normalization!.mean).toEqual(STORED_MEAN);
    // Keras computes (x - mean) / sqrt(variance) * (1 / sqrt(s)); as one division that is std = sqrt(variance * s).
    // 1e-15 relative: the reader divides by 1/sqrt(s) where this multiplies by sqrt(s), a few float64 roundings apart.
    normalization!.std.forEach((std, c) => expect(std).toBeCloseTo(Math.sqrt(STORED_VARIANCE[c] * IMAGENET_STD[c]), 14));
  });

  it('model.save: the model config says there is no extra Rescaling, so std is sqrt(variance)', async () => {
    const { normalization } = await open('tiny-model.h5');
    expect(normalization!.mean).toEqual(STORED_MEAN);
    expect(normalization!.std).toEqual(STORED_VARIANCE.map(Math.sqrt));
  });

  it('a fine-tuned model saved whole (EfficientNet as one layer, then a Dense): weights, normalisation and head found', async () => {
    const source = await open('nested-model.h5');
    expect(source.tensors.get('stem_conv/kernel:0')!.shape).toEqual([3, 3, 3, 2]);
    // The Rescaling that follows `normalization` is inside the nested model's config.
    const { normalization } = source;
    expect(normalization!.mean).toEqual(STORED_MEAN);
    normalization!.std.forEach((std, c) => expect(std).toBeCloseTo(Math.sqrt(STORED_VARIANCE[c] * IMAGENET_STD[c]), 14));
    const mapped = kerasToTimm(source);
    expect(mapped.tensors.get('classifier.weight')!.shape).toEqual([3, 2]);
    expect(readFloat32(mapped, 'classifier.bias')).toEqual(readFloat32(source, 'dense/bias:0'));
  });

  it('the mapped source keeps the normalisation and transposes only when read', async () => {
    const source = await open('tiny-weights.h5');
    const mapped = kerasToTimm(source);
    expect(mapped.normalization).toEqual(source.normalization);
    expect(mapped.tensors.get('conv_stem.weight')!.shape).toEqual([8, 3, 3, 3]);
    expect(mapped.tensors.get('blocks.0.0.conv_dw.weight')!.shape).toEqual([8, 1, 3, 3]);
    expect(mapped.tensors.get('classifier.weight')!.shape).toEqual([TINY_CLASSES, 128]);
    expect(() => mapped.readInto('conv_stem.weight', new Float32Array(5))).toThrow(WeightsMismatchError);
    expect(() => mapped.readInto('no.such.tensor', new Float32Array(1))).toThrow(WeightsMismatchError);
  });

  it('refuses reads of integer tensors and wrong destinations with typed errors', async () => {
    const source = await open('tiny-weights.h5');
    expect(() => source.readInto('normalization/count:0', new Float32Array(1))).toThrow(WeightsMismatchError);
    expect(() => source.readInto('stem_conv/kernel:0', new Float32Array(3))).toThrow(WeightsMismatchError);
  });

  it('refuses a file that is not HDF5, and an HDF5 file that is not a Keras file, with one-line messages', async () => {
    await expect(openKerasH5(memoryByteSource(fixture('tiny.safetensors')))).rejects.toThrow(WeightsFormatError);
    await expect(open('not-keras.h5')).rejects.toThrow(/no layer_names attribute/);
    await expect(open('keras3.weights.h5')).rejects.toThrow(/Keras 3's \.weights\.h5 layout .* model\.save\('model\.h5'\)/);
    const truncated = fixture('tiny-weights.h5').subarray(0, 4000);
    const error = await openKerasH5(memoryByteSource(truncated)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsFormatError);
    expect((error as Error).message).not.toContain('\n');
  });

  it('reads big-endian and float64 tensors (through jsfive) as the same values as little-endian float32 (read in place)', async () => {
    // The fixture script stores the same values in both files; only these two tensors' types differ.
    const plain = await open('fuzz-weights.h5');
    const other = await open('fuzz-split.h5');
    expect(other.tensors.get('stem_bn/gamma:0')!.dtype).toBe('F64');
    for (const name of plain.tensors.keys()) {
      if (plain.tensors.get(name)!.dtype === 'I64') continue;
      // The float64 copy was made from float32 values, so it rounds back to them exactly.
      expect(readFloat32(other, name), name).toEqual(readFloat32(plain, name));
    }
  });

  it('refuses a group B-tree that lists its children many times, before jsfive walks it', async () => {
    // Chain five B-tree nodes so each lists the next 32 times: jsfive would read 32^5 (33 million)
    // nodes, each of 32 entries, a walk of many minutes; the guard counts the reads first.
    const bytes = fixture('fuzz-weights.h5').slice();
    const view = new DataView(bytes.buffer);
    const nodes: number[] = [];
    for (let at = 0; at + 4 <= bytes.length && nodes.length < 5; at++) {
      if (bytes[at] === 0x54 && bytes[at + 1] === 0x52 && bytes[at + 2] === 0x45 && bytes[at + 3] === 0x45) nodes.push(at); // "TREE"
    }
    expect(nodes.length).toBe(5);
    nodes.forEach((node, i) => {
      bytes[node + 5] = nodes.length - 1 - i; // level
      if (i === nodes.length - 1) return; // the leaf keeps its real entries
      view.setUint16(node + 6, 32, true); // entries used
      for (let entry = 0; entry < 32; entry++) view.setBigUint64(node + 24 + entry * 16 + 8, BigInt(nodes[i + 1]), true);
    });
    // Without the guard jsfive walks millions of nodes before failing on its own; with it the walk is refused first.
    const error = await openKerasH5(memoryByteSource(bytes)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsFormatError);
    expect((error as Error).message).toMatch(/B-tree refers to more nodes than a \d+-byte file can hold/);
  });

  it('maps Keras 3\'s legacy .h5 names (no ":0", the depthwise kernel called "kernel") onto the timm file bit for bit', async () => {
    const keras2 = await open('tiny-weights.h5');
    const keras3Name = (name: string): string => name.replace(/:0$/, '').replace('/depthwise_kernel', '/kernel');
    const renamed = new Map([...keras2.tensors.keys()].map((name) => [keras3Name(name), name]));
    const keras3: WeightSource = {
      format: 'hdf5',
      tensors: new Map([...renamed].map(([name, from]) => [name, { ...keras2.tensors.get(from)!, name }])),
      readInto: (name, destination) => keras2.readInto(renamed.get(name)!, destination),
    };
    expect(isKerasNaming([...keras3.tensors.keys()])).toBe(true);
    expectSameTensors(kerasToTimm(keras3), timm);
  });

  it('takes a fine-tuned head\'s one Dense layer (any name) as the classifier, and no guess when there are two', async () => {
    const keras = await open('tiny-weights.h5');
    const renamedSource = (rename: (name: string) => string[]): WeightSource => {
      const from = new Map<string, string>();
      for (const name of keras.tensors.keys()) for (const to of rename(name)) from.set(to, name);
      return {
        format: 'hdf5',
        tensors: new Map([...from].map(([name, original]) => [name, { ...keras.tensors.get(original)!, name }])),
        readInto: (name, destination) => keras.readInto(from.get(name)!, destination),
      };
    };
    const oneDense = renamedSource((name) => [name.replace(/^predictions\//, 'dense_3/')]);
    expectSameTensors(kerasToTimm(oneDense), timm);
    const twoDense = renamedSource((name) => name.startsWith('predictions/')
      ? [name.replace(/^predictions\//, 'dense_3/'), name.replace(/^predictions\//, 'dense_4/')] : [name]);
    const mapped = kerasToTimm(twoDense);
    expect(mapped.tensors.has('classifier.weight')).toBe(false);
    expect(mapped.tensors.has('dense_3/kernel:0') && mapped.tensors.has('dense_4/kernel:0')).toBe(true);
  });

  it('maps a model prefix on weight names too (a Keras model nested in another)', () => {
    const names = ['efficientnetb0/stem_conv/kernel:0'];
    expect(isKerasNaming(names)).toBe(true);
    const source: WeightSource = {
      format: 'hdf5',
      tensors: new Map([[names[0], { name: names[0], dtype: 'F32', shape: [3, 3, 3, 2] }]]),
      readInto: (_, destination) => destination.forEach((_, i) => (destination[i] = i)),
    };
    const mapped = kerasToTimm(source);
    expect([...mapped.tensors.keys()]).toEqual(['conv_stem.weight']);
    const values = readFloat32(mapped, 'conv_stem.weight');
    // HWIO index ((y * 3 + x) * 3 + i) * 2 + o lands at OIHW index ((o * 3 + i) * 3 + y) * 3 + x.
    expect(values[((1 * 3 + 2) * 3 + 0) * 3 + 1]).toBe(((0 * 3 + 1) * 3 + 2) * 2 + 1);
  });
});
