/**
 * The weight-source plumbing around the readers: the variant read from a file's shapes (and named
 * when a file does not match the variant asked for), ZIP64 archives, a legacy storage declaring
 * more elements than the file holds, and format detection by magic bytes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { WeightsFormatError, WeightsMismatchError } from '../../src/errors.js';
import { memoryByteSource } from '../../src/weights/byte-source.js';
import { inferShape } from '../../src/weights/infer-variant.js';
import { detectFormat, openWeights } from '../../src/weights/open.js';
import { readFloat32 } from '../../src/weights/read.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { storageFromPersistentId, unpickle } from '../../src/weights/torch/pickle.js';
import { openZip } from '../../src/weights/torch/zip.js';
import { writeStoredZip } from '../support/zip.js';

const FIXTURES = new URL('../fixtures/torch/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

describe('the variant a file\'s shapes describe', () => {
  it.each(['b0', 'b1', 'b2', 'b3'] as const)('is read back from synthetic %s weights', (variant) => {
    const shape = inferShape(parseSafetensors(createSyntheticWeights({ variant, seed: 1, numClasses: 7 })));
    expect(shape.variant).toBe(variant);
    expect(shape.classes).toBe(7);
  });

  it('is named when the file does not match the variant asked for, after the full mismatch report', async () => {
    const refusal = EfficientNet.create({ variant: 'b0', weights: createSyntheticWeights({ variant: 'b1', seed: 1 }) });
    await expect(refusal).rejects.toBeInstanceOf(WeightsMismatchError);
    await expect(refusal).rejects.toThrow(/0 missing, \d+ unexpected.*; the file's shapes are those of EfficientNet-B1 \(stem 32, head 1280, blocks per stage 2, 3, 3, 4, 4, 5, 2\)$/);
  });
});

describe('PyTorch containers', () => {
  it('reads a checkpoint whose sizes and offsets are all in ZIP64 records', async () => {
    const plain = fixture('views-zip.pth');
    const archive = openZip(memoryByteSource(plain));
    const entries = [...archive.entries.values()].map((entry) => {
      const { begin, end } = archive.dataRange(entry);
      return { name: entry.name, data: plain.slice(begin, end) };
    });
    const zip64 = writeStoredZip(entries, { zip64: true });
    // The 32-bit fields really are the ZIP64 markers: the end record says 0xffff entries.
    expect(new DataView(zip64.buffer).getUint16(zip64.length - 22 + 10, true)).toBe(0xffff);
    const [a, b] = [await openWeights(plain), await openWeights(zip64)];
    expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
    for (const [name, tensor] of a.tensors) {
      if (tensor.dtype !== 'I64') expect(readFloat32(b, name), name).toEqual(readFloat32(a, name));
    }
  });

  it('refuses a legacy storage that declares more elements than the file holds, before reading it', async () => {
    const bytes = fixture('views-legacy.pth').slice();
    // The storages follow the five pickles; the first starts with its int64 element count.
    let end = 0;
    for (let i = 0; i < 5; i++) {
      end += unpickle(bytes.subarray(end), { where: 'test', persistentLoad: (id) => storageFromPersistentId(id, 'test') }).end;
    }
    new DataView(bytes.buffer).setBigInt64(end, 2n ** 40n, true);
    await expect(openWeights(bytes)).rejects.toThrow(WeightsFormatError);
    await expect(openWeights(bytes)).rejects.toThrow(/declares 1099511627776 elements, more than the \d+ bytes left/);
  });

  it('chooses the reader by magic bytes, not by name', () => {
    expect(detectFormat(fixture('views-zip.pth'))).toBe('pytorch-zip');
    expect(detectFormat(fixture('views-legacy.pth'))).toBe('pytorch-legacy');
    expect(detectFormat(Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0))).toBe('hdf5');
    expect(detectFormat(createSyntheticWeights({ variant: 'b0', seed: 1 }).subarray(0, 16))).toBe('safetensors');
  });

  it('names the accepted formats for a file that is none of them', async () => {
    await expect(openWeights(new TextEncoder().encode('GIF89a, not weights at all'))).rejects.toThrow(
      /not a weights file this reads \(first bytes: 47 49 46 38 39 61 2c 20\); expected safetensors, PyTorch .* or Keras HDF5/,
    );
  });
});
