/**
 * Mutation fuzzing of the PyTorch readers: the zip reader (central directory, ZIP64 records, local
 * headers) and the restricted unpickler (through zip checkpoints' data.pkl, legacy streams and
 * bare pickles). Every damaged file must either open into a source whose every float tensor reads
 * with the right element count, or be refused with a typed error: never a raw RangeError, a hang
 * or a half-opened source.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { elementCount } from '../../src/weights/source.js';
import { memoryByteSource } from '../../src/weights/byte-source.js';
import { openWeights } from '../../src/weights/open.js';
import { storageFromPersistentId, unpickle } from '../../src/weights/torch/pickle.js';
import { openZip } from '../../src/weights/torch/zip.js';
import type { WeightSource } from '../../src/weights/source.js';
import { fuzz, summarize, type Mutator } from '../support/mutate.js';
import { writeStoredZip } from '../support/zip.js';

const CASES = 10_000;
const FIXTURES = new URL('../fixtures/torch/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

/** A zip checkpoint's entries, re-packed by the test writer (optionally all through ZIP64 records). */
function repacked(bytes: Uint8Array, zip64: boolean): Uint8Array {
  const archive = openZip(memoryByteSource(bytes));
  const entries = [...archive.entries.values()].map((entry) => {
    const { begin, end } = archive.dataRange(entry);
    return { name: entry.name, data: bytes.slice(begin, end) };
  });
  return writeStoredZip(entries, { zip64 });
}

/** The bytes of a zip checkpoint's data.pkl. */
function dataPickle(bytes: Uint8Array): Uint8Array {
  const archive = openZip(memoryByteSource(bytes));
  const entry = [...archive.entries.values()].find((e) => e.name.endsWith('/data.pkl'))!;
  const { begin, end } = archive.dataRange(entry);
  return bytes.slice(begin, end);
}

/** An opened source must hold together: every float tensor reads into exactly its element count. */
function checkSource(source: WeightSource): void {
  for (const tensor of source.tensors.values()) {
    if (tensor.dtype === 'I64') continue;
    const values = new Float32Array(elementCount(tensor.shape)); // [elements]
    source.readInto(tensor.name, values);
    expect(values.length).toBe(elementCount(tensor.shape));
  }
}

/** Where the central directory starts: edits aimed there test the directory walk. */
function directoryStart(bytes: Uint8Array): number {
  const end = bytes.length - 22;
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(end + 16, true);
}

describe('fuzzing the PyTorch zip reader', () => {
  it(`refuses or cleanly opens ${CASES} damaged zip checkpoints`, async () => {
    const plain = fixture('views-zip.pth');
    const seeds = [plain, fixture('views-wrapped.pth'), repacked(plain, false), repacked(plain, true), repacked(fixture('views-wrapped.pth'), true)];
    for (const seed of seeds) checkSource(await openWeights(seed));
    const report = await fuzz({
      name: 'pytorch zip',
      seed: 20261203,
      cases: CASES,
      generate: (mutator: Mutator) => {
        const seed = mutator.pick(seeds);
        const directory = directoryStart(seed);
        const focus = directory > 0 && directory < seed.length && mutator.chance(0.6)
          ? { begin: directory, end: seed.length } // central directory, ZIP64 records, end record
          : undefined;
        return mutator.mutateBytes(seed, { focus, donors: seeds });
      },
      run: (bytes) => openWeights(bytes),
      checkValid: checkSource,
    });
    console.log(summarize(report));
    expect(report.failures).toEqual([]);
    expect(report.valid).toBeGreaterThan(CASES / 100);
    expect(report.refused.get('WeightsFormatError') ?? 0).toBeGreaterThan(CASES / 4);
  });
});

describe('fuzzing the restricted unpickler', () => {
  it(`refuses or cleanly runs ${CASES} damaged pickles`, async () => {
    const pickles = ['views-zip.pth', 'views-wrapped.pth', 'evil-system.pth', 'evil-huge-storage.pth', 'timm-bf16.pth'].map((name) => dataPickle(fixture(name)));
    const legacy = [fixture('views-legacy.pth'), fixture('evil-exec-legacy.pth')];
    // Vocabulary of whole opcodes with arguments: globals (allowed and not), deep nesting, memo
    // references far away, huge declared lengths.
    const splices = [
      'ctorch\nFloatStorage\n', 'cposix\nsystem\n', 'ccollections\nOrderedDict\n', 'ctorch._utils\n_rebuild_tensor_v2\n',
      '(((((((((', ']]]]]]]]', 'h\u00ff', 'j\u00ff\u00ff\u00ff\u00ff', 'X\u00ff\u00ff\u00ff\u007f', 'R', 'Q', 'b', 's', 'u', 'e', '.',
    ].map((text) => Uint8Array.from(text, (c) => c.charCodeAt(0)));
    const report = await fuzz({
      name: 'pickle',
      seed: 20261204,
      cases: CASES,
      generate: (mutator: Mutator) => {
        if (mutator.chance(0.3)) {
          // A legacy stream: the pickles are its first ~1 KB, the storages follow.
          const seed = mutator.pick(legacy);
          return { legacy: true, bytes: mutator.mutateBytes(seed, { focus: { begin: 0, end: Math.min(seed.length, 1024) }, donors: legacy }) };
        }
        const seed = mutator.pick(pickles);
        let bytes = mutator.mutateBytes(seed, { donors: [...pickles, ...splices] });
        if (mutator.chance(0.3)) {
          const at = mutator.int(bytes.length + 1);
          const splice = mutator.pick(splices);
          bytes = Uint8Array.from([...bytes.subarray(0, at), ...splice, ...bytes.subarray(at)]);
        }
        return { legacy: false, bytes };
      },
      run: async ({ legacy, bytes }) => {
        if (legacy) return { source: await openWeights(bytes) };
        unpickle(bytes, { where: 'fuzz', persistentLoad: (id) => storageFromPersistentId(id, 'fuzz') });
        return { source: null };
      },
      checkValid: ({ source }) => {
        if (source !== null) checkSource(source);
      },
    });
    console.log(summarize(report));
    expect(report.failures).toEqual([]);
    expect(report.valid).toBeGreaterThan(CASES / 200);
    expect(report.refused.get('WeightsFormatError') ?? 0).toBeGreaterThan(CASES / 2);
  });
});
