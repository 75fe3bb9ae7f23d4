/**
 * Mutation fuzzing of the safetensors reader: damaged small files (F32, F16, BF16, F64, integer
 * dtypes, metadata, empty and scalar tensors) must either parse into a self-consistent file or be
 * refused with a typed error, never crash, hang or half-parse.
 */
import { describe, expect, it } from 'vitest';
import {
  dtypeByteSize, elementCount, isFloatDtype, parseSafetensors, readTensorAsFloat32, type SafetensorsFile,
} from '../../src/weights/safetensors.js';
import { writeSafetensors } from '../../src/weights/safetensors-writer.js';
import { concat, fuzz, summarize, type Mutator } from '../support/mutate.js';
import { mulberry32, randomFloats } from '../support/random.js';

const CASES = 12_000;

/** A file from header text and data bytes, with the header length it declares. */
function assemble(headerText: string, data: Uint8Array, declaredLength?: number): Uint8Array {
  const header = new TextEncoder().encode(headerText);
  const lengthField = new Uint8Array(8); // [u64 little-endian]
  new DataView(lengthField.buffer).setBigUint64(0, BigInt(declaredLength ?? header.length), true);
  return concat(lengthField, header, data);
}

/** Seeds: every dtype width, metadata, empty, scalar and integer-like names, the writer's padding. */
function seedFiles(): Uint8Array[] {
  const rng = mulberry32(7);
  const tensors = [
    { name: 'conv.weight', shape: [2, 3, 3, 3], data: randomFloats(rng, 54, 2) },
    { name: 'bn.bias', shape: [5], data: randomFloats(rng, 5, 2) },
    { name: 'scalar', shape: [], data: randomFloats(rng, 1, 2) },
    { name: 'empty', shape: [3, 0, 2], data: new Float32Array(0) },
    { name: '10', shape: [1], data: randomFloats(rng, 1, 2) },
  ];
  const metadata = { format: 'pt', note: 'ünïcode "quoted" {braces}' };
  const raw = (header: Record<string, unknown>, data: number): Uint8Array => {
    const bytes = new Uint8Array(data); // [data bytes]
    for (let i = 0; i < data; i++) bytes[i] = (i * 89 + 13) & 0xff;
    return assemble(JSON.stringify(header), bytes);
  };
  return [
    writeSafetensors(tensors, metadata),
    writeSafetensors(tensors, undefined, { dtype: 'F16' }),
    writeSafetensors(tensors, { k: 'v' }, { dtype: 'BF16' }),
    writeSafetensors([{ ...tensors[1], dtype: 'F16' }, tensors[0], { ...tensors[2], dtype: 'BF16' }]),
    writeSafetensors([], metadata),
    writeSafetensors([]),
    // The writer stores only F32, F16 and BF16; the reader also takes F64 and indexes integer dtypes.
    raw({ d: { dtype: 'F64', shape: [2, 2], data_offsets: [0, 32] }, steps: { dtype: 'I64', shape: [], data_offsets: [32, 40] } }, 40),
    raw({ __metadata__: {}, m: { dtype: 'U8', shape: [3], data_offsets: [0, 3] }, b: { dtype: 'BOOL', shape: [1], data_offsets: [3, 4] } }, 4),
  ];
}

const DTYPE_VOCABULARY = ['"F64"', '"F32"', '"F16"', '"BF16"', '"I64"', '"I8"', '"U8"', '"BOOL"', '"F8_E4M3"', '"F31"', '"f32"', '"dtype"', '"shape"', '"data_offsets"', '"__metadata__"'];

/** Where the header ends in a well-formed seed (the data section starts there). */
const headerEnd = (seed: Uint8Array): number => 8 + Number(new DataView(seed.buffer, seed.byteOffset).getBigUint64(0, true));

/** One damaged file: byte edits, header-length edits, or JSON-level edits re-assembled into a file. */
function mutateSafetensors(mutator: Mutator, seeds: readonly Uint8Array[]): Uint8Array {
  const seed = mutator.pick(seeds);
  const end = headerEnd(seed);
  const header = { begin: 8, end };
  switch (mutator.int(5)) {
    case 0:
      return mutator.mutateBytes(seed, { donors: seeds });
    case 1:
      return mutator.mutateBytes(seed, { focus: header, maxEdits: 3 });
    case 2: {
      // The header length alone: an edge value, off by a little, or high 32 bits set.
      const file = seed.slice();
      const view = new DataView(file.buffer);
      const length = end - 8;
      const choice = mutator.int(4);
      if (choice === 0) view.setBigUint64(0, BigInt(mutator.pick([0, 1, 2, file.length - 8, file.length, 100_000_000, 100_000_001])), true);
      else if (choice === 1) view.setUint32(0, length + mutator.between(-9, 9), true);
      else if (choice === 2) view.setUint32(4, mutator.pick([1, 0x80000000, 0xffffffff]), true);
      else view.setBigUint64(0, 0xffffffffffffffffn, true);
      return file;
    }
    default: {
      // JSON-level: numbers in shapes and offsets, dtypes, duplicated members, deep nesting, cuts.
      let text = new TextDecoder().decode(seed.subarray(8, end));
      const edits = mutator.between(1, 3);
      for (let i = 0; i < edits; i++) text = mutator.mutateText(text, DTYPE_VOCABULARY);
      let data = seed.subarray(end);
      if (mutator.chance(0.2)) data = mutator.chance(0.5) ? data.subarray(0, mutator.int(data.length + 1)) : concat(data, new Uint8Array(mutator.between(1, 16)));
      // Mostly a consistent length field, so the JSON itself is what gets tested.
      const declared = mutator.chance(0.9) ? undefined : new TextEncoder().encode(text).length + mutator.between(-4, 4);
      return assemble(text, data, declared !== undefined && declared >= 0 ? declared : undefined);
    }
  }
}

/** An accepted file must hold together: tensors tile the data section and every float tensor reads. */
function checkParsed(file: SafetensorsFile, input: Uint8Array): void {
  expect(file.bytes).toBe(input);
  let expectedBegin = file.dataStart;
  for (const entry of file.tensors.values()) {
    expect(entry.begin).toBe(expectedBegin);
    const count = entry.shape.includes(0) ? 0 : elementCount(entry.shape);
    expect(entry.end - entry.begin).toBe(count * dtypeByteSize(entry.dtype));
    expectedBegin = entry.end;
    if (isFloatDtype(entry.dtype)) expect(readTensorAsFloat32(file, entry.name).length).toBe(count);
  }
  expect(expectedBegin).toBe(input.length);
  for (const value of Object.values(file.metadata)) expect(typeof value).toBe('string');
}

describe('fuzzing the safetensors reader', () => {
  it(`refuses or cleanly parses ${CASES} damaged files`, async () => {
    const seeds = seedFiles();
    for (const seed of seeds) checkParsed(parseSafetensors(seed), seed);
    const report = await fuzz({
      name: 'safetensors',
      seed: 20260701,
      cases: CASES,
      generate: (mutator) => mutateSafetensors(mutator, seeds),
      run: (bytes) => parseSafetensors(bytes),
      checkValid: checkParsed,
    });
    console.log(summarize(report));
    expect(report.failures).toEqual([]);
    // The mutations must exercise both outcomes, or the run proves little.
    expect(report.valid).toBeGreaterThan(CASES / 100);
    expect(report.refused.get('WeightsFormatError') ?? 0).toBeGreaterThan(CASES / 2);
  });
});
