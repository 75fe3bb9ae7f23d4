/**
 * Mutation fuzzing of the Keras .h5 path (jsfive's HDF5 parsing, the Keras layout walk, the
 * normalisation, the name mapping and every tensor read): damaged small Keras files must either
 * open into a self-consistent source whose every tensor reads, or be refused with a typed error;
 * never a raw error from the HDF5 library, a crash or a hang.
 *
 * Seeds are small Keras 2 files written by h5py (scripts/make-keras-fixtures.py): save_weights,
 * model.save with its config, and layer_names split in two, each with a handful of layers, so a
 * case costs about a millisecond rather than the tens a whole network's file takes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memoryByteSource } from '../../src/weights/byte-source.js';
import { openKerasH5 } from '../../src/weights/hdf5/keras-h5.js';
import { kerasToTimm } from '../../src/weights/naming/keras.js';
import { elementCount, type WeightSource } from '../../src/weights/source.js';
import { fuzz, summarize, type Mutator } from '../support/mutate.js';

const CASES = 10_000;
const SEEDS = ['fuzz-weights.h5', 'fuzz-model.h5', 'fuzz-split.h5'];
const FLOAT = new Set(['F64', 'F32', 'F16']);

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/keras/${name}`, import.meta.url)));

/** Offsets of the non-zero bytes of a seed: HDF5 files are mostly zero padding, and edits there prove little. */
function structureOffsets(seed: Uint8Array): number[] {
  const offsets: number[] = [];
  seed.forEach((byte, offset) => {
    if (byte !== 0) offsets.push(offset);
  });
  return offsets;
}

interface Opened {
  readonly source: WeightSource;
  readonly mapped: WeightSource;
  /** Every float tensor of both views, as read. */
  readonly values: Map<string, Float32Array>;
}

/** What a caller does with a Keras file: open it, map it, read every float tensor of both views. */
async function openAndReadAll(bytes: Uint8Array): Promise<Opened> {
  const source = await openKerasH5(memoryByteSource(bytes));
  const mapped = kerasToTimm(source);
  const values = new Map<string, Float32Array>();
  for (const view of [source, mapped]) {
    for (const tensor of view.tensors.values()) {
      if (!FLOAT.has(tensor.dtype)) continue;
      const destination = new Float32Array(elementCount(tensor.shape)); // [elements of tensor.shape]
      view.readInto(tensor.name, destination);
      values.set(`${view === source ? 'keras' : 'timm'}:${tensor.name}`, destination);
    }
  }
  return { source, mapped, values };
}

/** An accepted file must hold together: shapes match element counts, the normalisation is usable. */
function checkOpened({ source, mapped, values }: Opened): void {
  expect(source.format).toBe('hdf5');
  for (const tensor of source.tensors.values()) {
    expect(tensor.shape.every((size) => Number.isSafeInteger(size) && size >= 0)).toBe(true);
    if (FLOAT.has(tensor.dtype)) expect(values.get(`keras:${tensor.name}`)!.length).toBe(elementCount(tensor.shape));
  }
  for (const tensor of mapped.tensors.values()) {
    if (FLOAT.has(tensor.dtype)) expect(values.get(`timm:${tensor.name}`)!.length).toBe(elementCount(tensor.shape));
  }
  if (source.normalization !== undefined) {
    expect(source.normalization.mean.every(Number.isFinite)).toBe(true);
    expect(source.normalization.std.every((std) => Number.isFinite(std) && std > 0)).toBe(true);
  }
}

function mutateKeras(mutator: Mutator, seeds: readonly Uint8Array[], structure: readonly number[][]): Uint8Array {
  const which = mutator.int(seeds.length);
  const seed = seeds[which];
  if (mutator.chance(0.7)) {
    // Most edits on the bytes that carry structure: addresses, sizes, messages, names.
    const at = mutator.pick(structure[which]);
    return mutator.mutateBytes(seed, { focus: { begin: at, end: Math.min(seed.length, at + 16) }, maxEdits: 3, donors: seeds });
  }
  return mutator.mutateBytes(seed, { donors: seeds });
}

describe('fuzzing the Keras .h5 reader', () => {
  it(`refuses or cleanly opens ${CASES} damaged files`, async () => {
    const seeds = SEEDS.map(fixture);
    for (const seed of seeds) checkOpened(await openAndReadAll(seed));
    const structure = seeds.map(structureOffsets);
    const report = await fuzz({
      name: 'keras-h5',
      seed: 20261203,
      cases: CASES,
      generate: (mutator) => mutateKeras(mutator, seeds, structure),
      run: openAndReadAll,
      checkValid: checkOpened,
    });
    console.log(summarize(report));
    expect(report.failures).toEqual([]);
    // Both outcomes must be common, or the run proves little.
    expect(report.valid).toBeGreaterThan(CASES / 100);
    expect(report.refused.get('WeightsFormatError') ?? 0).toBeGreaterThan(CASES / 10);
  }, 600_000);
});
