/**
 * End-to-end fuzzing of EfficientNet.create with damaged B0 weights: each case must build a model
 * that runs, or be refused with a typed error before any core instance exists.
 *
 * Nine cases in ten damage a narrow B0 (B0's blocks and tensor names at a quarter of its width,
 * 1/16 of its weights), which reaches the same parsing, matching, packing and running code as B0
 * for much less copying and packing: a case costs about a quarter of the CPU time a B0 case did.
 * The tenth damages B0 itself, loaded by variant and by timm preset, so the presets' paths are
 * fuzzed too.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ScalingCoefficients } from '../../src/arch/variants.js';
import { buildNetwork } from '../../src/arch/network.js';
import { EfficientNet } from '../../src/efficientnet.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { concat, fuzz, summarize, type Mutator } from '../support/mutate.js';
import { mulberry32, randomFloats } from '../support/random.js';

const CASES = 2000;
const INPUT_SHAPE = [1, 3, 16, 16];

type CreateOptions = { variant: 'b0' | ScalingCoefficients } | { model: string };

/** A damaged file and the options it is loaded with. */
interface CreateCase {
  readonly weights: Uint8Array;
  readonly options: CreateOptions;
}

/** B0's topology and names at a quarter of its width. */
const NARROW_B0: ScalingCoefficients = { width: 0.25, depth: 1, resolution: 224, dropout: 0.2 };

/** A valid file to damage, where its header ends, and the options that load it. */
interface Seed {
  readonly weights: Uint8Array;
  readonly headerEnd: number;
  readonly options: readonly CreateOptions[];
}

function makeSeed(weights: Uint8Array, options: readonly CreateOptions[]): Seed {
  return { weights, headerEnd: 8 + Number(new DataView(weights.buffer).getBigUint64(0, true)), options };
}

/** Tokens of the real header to swap in: other tensors' names, dtypes, BN counters. */
const VOCABULARY = ['"F16"', '"BF16"', '"F64"', '"I64"', '"conv_stem.weight"', '"classifier.bias"', '"bn1.num_batches_tracked"', '"blocks.0.0.conv_dw.weight"', '"__metadata__"'];

/** The file with a new header text (length field to match) and the same data section. */
function withHeader(seed: Uint8Array, headerEnd: number, text: string): Uint8Array {
  const header = new TextEncoder().encode(text);
  const lengthField = new Uint8Array(8); // [u64 little-endian]
  new DataView(lengthField.buffer).setBigUint64(0, BigInt(header.length), true);
  return concat(lengthField, header, seed.subarray(headerEnd));
}

type HeaderEntry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** Float32 bit patterns that damaged weights carry: NaN, infinities, a denormal, the largest finite value. */
const SPECIAL_FLOAT_BITS = [0x7fc00000, 0xffc00001, 0x7f800000, 0xff800000, 0x00000001, 0x7f7fffff, 0x80000000];

function mutateWeights(mutator: Mutator, seed: Uint8Array, headerEnd: number): Uint8Array {
  switch (mutator.int(6)) {
    case 0:
      return mutator.mutateBytes(seed, { focus: { begin: 0, end: headerEnd }, maxEdits: 3 });
    case 1: {
      // JSON text: shapes, offsets, dtypes and names, re-assembled with a consistent length field.
      let text = new TextDecoder().decode(seed.subarray(8, headerEnd));
      const edits = mutator.between(1, 3);
      for (let i = 0; i < edits; i++) text = mutator.mutateText(text, VOCABULARY);
      return withHeader(seed, headerEnd, text);
    }
    case 2: {
      // Well-formed edits that keep the layout, so they reach the matching against B0: a renamed
      // tensor, a shape with two sides swapped (same size), a same-width integer dtype, a prefix on every name.
      const header = JSON.parse(new TextDecoder().decode(seed.subarray(8, headerEnd))) as Record<string, HeaderEntry>;
      const names = Object.keys(header).filter((name) => name !== '__metadata__');
      const name = mutator.pick(names);
      const entry = header[name];
      const choice = mutator.int(4);
      if (choice === 0) {
        delete header[name];
        header[`${name.slice(0, -1)}${mutator.pick(['x', 's', '_'])}`] = entry;
      } else if (choice === 1 && entry.shape.length >= 2) {
        const i = mutator.int(entry.shape.length);
        const j = mutator.int(entry.shape.length);
        [entry.shape[i], entry.shape[j]] = [entry.shape[j], entry.shape[i]];
      } else if (choice === 2) {
        entry.dtype = mutator.pick(['I32', 'U32']);
      } else {
        for (const key of names) {
          header[`module.${key}`] = header[key];
          delete header[key];
        }
      }
      return withHeader(seed, headerEnd, JSON.stringify(header));
    }
    case 3: {
      // Values only, in place: the file stays well-formed and the model must build and run.
      const weights = seed.slice();
      const view = new DataView(weights.buffer);
      const edits = mutator.between(1, 64);
      for (let i = 0; i < edits; i++) {
        const at = headerEnd + 4 * mutator.int((weights.length - headerEnd) / 4);
        view.setUint32(at, mutator.pick(SPECIAL_FLOAT_BITS), true);
      }
      return weights;
    }
    default:
      // Raw bytes of the data section: cuts and insertions shift the tensors, flips change values.
      return mutator.mutateBytes(seed, { focus: { begin: headerEnd, end: seed.length }, maxEdits: 8 });
  }
}

describe('fuzzing EfficientNet.create end to end', () => {
  const instantiate = vi.spyOn(WebAssembly, 'instantiate');
  afterAll(() => instantiate.mockRestore());

  it(`builds a working model or refuses before instantiating, for ${CASES} damaged B0-topology files`, async () => {
    const narrow = makeSeed(createSyntheticWeights({ variant: buildNetwork(NARROW_B0), seed: 5 }), [{ variant: NARROW_B0 }]);
    const b0 = makeSeed(createSyntheticWeights({ variant: 'b0', seed: 5 }), [
      { variant: 'b0' }, { model: 'tf_efficientnet_b0.ns_jft_in1k' }, { model: 'efficientnet_b0.ra_in1k' },
    ]);
    const input = randomFloats(mulberry32(12), 3 * 16 * 16, 2); // [1, 3, 16, 16]
    let built = 0;
    instantiate.mockClear();
    const report = await fuzz({
      name: 'EfficientNet.create',
      seed: 20260705,
      cases: CASES,
      generate: (mutator): CreateCase => {
        const seed = mutator.chance(0.1) ? b0 : narrow;
        return { weights: mutateWeights(mutator, seed.weights, seed.headerEnd), options: mutator.pick(seed.options) };
      },
      run: async ({ weights, options }) => {
        const net = await EfficientNet.create({ ...options, weights });
        built++;
        // Once built, a model must run; damaged values may make its logits NaN or infinite, which is allowed.
        const result = await net.forward(input, INPUT_SHAPE);
        net.dispose();
        return { result, numClasses: net.numClasses, featureChannels: net.featureChannels };
      },
      checkValid: ({ result, numClasses, featureChannels }) => {
        expect(result.logits.length).toBe(numClasses);
        expect(result.features.length).toBe(featureChannels);
        expect([1280, buildNetwork(NARROW_B0).headChannels]).toContain(featureChannels);
      },
    });
    console.log(summarize(report));
    expect(report.failures).toEqual([]);
    // Nothing half-done: every core instance belongs to a model that was built.
    expect(instantiate.mock.calls.length).toBe(built);
    expect(report.valid).toBeGreaterThan(CASES / 10);
    expect([...report.refused.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(CASES / 10);
  }, 900_000);
});
