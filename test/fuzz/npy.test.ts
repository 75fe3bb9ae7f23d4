/**
 * Mutation fuzzing of the `.npy` reader: damaged arrays (versions 1.0 to 3.0, float32 and float64,
 * scalars to 4-D) must parse into a consistent array or be refused with InputShapeError.
 */
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy, type NpyArray } from '../../src/cli/npy.js';
import { concat, fuzz, summarize, type Mutator } from '../support/mutate.js';
import { mulberry32, randomFloats } from '../support/random.js';

const CASES = 12_000;

/** A `.npy` of any version from header text and data bytes. */
function npyFile(header: string, data: Uint8Array, version: 1 | 2 | 3): Uint8Array {
  const text = new TextEncoder().encode(header); // version 3 is UTF-8; the others are ASCII here anyway
  const lengthBytes = version === 1 ? 2 : 4;
  const prefix = new Uint8Array(8 + lengthBytes); // [magic, version, header length]
  prefix.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(prefix.buffer);
  if (version === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  return concat(prefix, text, data);
}

function seedFiles(): Uint8Array[] {
  const rng = mulberry32(3);
  const float64 = new Uint8Array(6 * 8); // [6 doubles]
  randomFloats(rng, 6, 2).forEach((value, i) => new DataView(float64.buffer).setFloat64(i * 8, value, true));
  return [
    encodeNpy(randomFloats(rng, 3 * 4 * 4, 2), [1, 3, 4, 4]),
    encodeNpy(randomFloats(rng, 5, 2), [5]),
    encodeNpy(randomFloats(rng, 1, 2), []),
    encodeNpy(new Float32Array(0), [2, 0]),
    npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", float64, 2),
    npyFile('{"descr":"<f4","fortran_order":False,"shape":(2,)}', new Uint8Array(8), 3),
  ];
}

const NPY_VOCABULARY = ["'<f4'", "'<f8'", "'>f4'", "'<i4'", "'|u1'", "'<f2'", "'O'", 'True', 'False', "'shape'", "'descr'", "'fortran_order'", '()', '(,)'];

/** Header text and where it lies, for a well-formed seed. */
function headerOf(seed: Uint8Array): { start: number; text: string } {
  const start = seed[6] === 1 ? 10 : 12;
  const view = new DataView(seed.buffer, seed.byteOffset);
  const length = seed[6] === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  return { start, text: new TextDecoder().decode(seed.subarray(start, start + length)) };
}

function mutateNpy(mutator: Mutator, seeds: readonly Uint8Array[]): Uint8Array {
  const seed = mutator.pick(seeds);
  const { start, text } = headerOf(seed);
  const headerEnd = start + new TextEncoder().encode(text).length;
  switch (mutator.int(4)) {
    case 0:
      return mutator.mutateBytes(seed, { donors: seeds });
    case 1:
      return mutator.mutateBytes(seed, { focus: { begin: 0, end: headerEnd }, maxEdits: 3 });
    default: {
      // Python-literal level: the dtype, the order flag, shape numbers, punctuation, cuts.
      let mutated = text;
      const edits = mutator.between(1, 3);
      for (let i = 0; i < edits; i++) mutated = mutator.mutateText(mutated, NPY_VOCABULARY);
      let data = seed.subarray(headerEnd);
      if (mutator.chance(0.2)) data = mutator.chance(0.5) ? data.subarray(0, mutator.int(data.length + 1)) : concat(data, new Uint8Array(mutator.between(1, 16)));
      return npyFile(mutated, data, mutator.pick([1, 2, 3] as const));
    }
  }
}

/** An accepted array holds exactly the values its shape counts. */
function checkParsed(array: NpyArray): void {
  expect(array.shape.every((size) => Number.isSafeInteger(size) && size >= 0)).toBe(true);
  expect(array.data.length).toBe(array.shape.reduce((a, b) => a * b, 1));
}

describe('fuzzing the .npy reader', () => {
  it(`refuses or cleanly parses ${CASES} damaged arrays`, async () => {
    const seeds = seedFiles();
    for (const seed of seeds) checkParsed(parseNpy(seed));
    const report = await fuzz({
      name: 'npy',
      seed: 20260702,
      cases: CASES,
      generate: (mutator) => mutateNpy(mutator, seeds),
      run: (bytes) => parseNpy(bytes),
      checkValid: checkParsed,
    });
    console.log(summarize(report));
    expect(report.failures).toEqual([]);
    expect(report.valid).toBeGreaterThan(CASES / 100);
    expect(report.refused.get('InputShapeError') ?? 0).toBeGreaterThan(CASES / 2);
  });
});
