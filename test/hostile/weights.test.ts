/**
 * Hostile weights files given to EfficientNet.create: each is refused with a typed error naming
 * the problem, before any model state exists. "Before" is observed, not assumed: every core
 * instance comes from WebAssembly.instantiate (src/runtime/wasm.ts), and a spy counts the calls.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { EfficientNetError, WeightsFormatError, WeightsMismatchError } from '../../src/errors.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { concat } from '../support/mutate.js';

/** One tensor's header entry, offsets relative to the data section. */
interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

const b0 = createSyntheticWeights({ variant: 'b0', seed: 21 });
const pristine = b0.slice();
const parsed = parseSafetensors(b0);
const data = b0.subarray(parsed.dataStart); // [data section bytes]

/** B0's tensors in data order. */
const entries = (): Entry[] =>
  [...parsed.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], begin: t.begin - parsed.dataStart, end: t.end - parsed.dataStart }));

/** Header JSON for entries in the given order (hand-built: an object would reorder integer-like names). */
const headerText = (list: readonly Entry[]): string =>
  `{${list.map((e) => `${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: [e.begin, e.end] })}`).join(',')}}`;

/** A file from header text and data, declaring `declaredLength` (default: the true header length). */
function file(text: string, dataSection: Uint8Array = data, declaredLength?: bigint): Uint8Array {
  const header = new TextEncoder().encode(text);
  const lengthField = new Uint8Array(8); // [u64 little-endian]
  new DataView(lengthField.buffer).setBigUint64(0, declaredLength ?? BigInt(header.length), true);
  return concat(lengthField, header, dataSection);
}

/** B0's file with its entry list edited; the data section is kept unless given. */
function edited(edit: (list: Entry[]) => void, dataSection: Uint8Array = data): Uint8Array {
  const list = entries();
  edit(list);
  return file(headerText(list), dataSection);
}

const byName = (list: Entry[], name: string): Entry => list.find((e) => e.name === name)!;

/** B0's file with one byte of the header changed. */
function headerByte(find: (text: string) => number, value: number): Uint8Array {
  const bytes = b0.slice();
  bytes[8 + find(new TextDecoder().decode(b0.subarray(8, parsed.dataStart)))] = value;
  return bytes;
}

const withLengthField = (length: bigint): Uint8Array => {
  const bytes = b0.slice();
  new DataView(bytes.buffer).setBigUint64(0, length, true);
  return bytes;
};

const cases: [label: string, weights: () => Uint8Array, error: typeof EfficientNetError, message: RegExp][] = [
  ['an empty file', () => new Uint8Array(0), WeightsFormatError, /0 bytes, expected at least 8/],
  ['a file cut inside the header', () => b0.subarray(0, 1000), WeightsFormatError, /runs past the end of the 1000-byte file/],
  ['a file cut inside the data', () => b0.subarray(0, b0.length - 1000), WeightsFormatError, /ends at offset .*truncated/],
  ['a header length of 2^64 - 1', () => withLengthField(0xffffffffffffffffn), WeightsFormatError, /exceeds the 100000000-byte limit/],
  ['a header length past the end', () => withLengthField(BigInt(b0.length)), WeightsFormatError, /runs past the end/],
  ['a header that is not JSON', () => headerByte((text) => text.lastIndexOf('}'), 0x2c /* , */), WeightsFormatError, /not valid JSON/],
  ['a header that is not UTF-8', () => headerByte((text) => text.indexOf('conv_stem') + 2, 0xff), WeightsFormatError, /not valid UTF-8/],
  ['an unknown dtype', () => edited((list) => { list[0].dtype = 'Q32'; }), WeightsFormatError, /unknown dtype "Q32"/],
  ['overlapping offsets', () => edited((list) => { list[5].begin -= 4; list[5].end -= 4; }), WeightsFormatError, /overlapping it/],
  ['a gap between tensors', () => edited((list) => { list[5].begin += 4; list[5].end += 4; }), WeightsFormatError, /leaving a gap/],
  ['offsets past the end of the file', () => edited((list) => { const last = list[list.length - 1]; last.shape = [last.shape[0] + 1]; last.end += 4; }), WeightsFormatError, /ends at offset .*truncated/],
  ['a byte size that disagrees with the shape', () => edited((list) => { byName(list, 'conv_stem.weight').shape = [32, 3, 3, 2]; }), WeightsFormatError, new RegExp(`conv_stem.weight.*needs ${32 * 3 * 3 * 2 * 4} bytes, but data_offsets .* span ${32 * 3 * 3 * 3 * 4}`)],
  ['a tensor listed twice', () => file(headerText(entries()).replace('{', `{${JSON.stringify('bn1.bias')}:${JSON.stringify({ dtype: 'F32', shape: [0], data_offsets: [0, 0] })},`)), WeightsFormatError, /lists tensor "bn1.bias" more than once/],
  ['a header nested 50,000 levels deep', () => file(`{"w":${'['.repeat(50_000)}${']'.repeat(50_000)}}`, new Uint8Array(0)), WeightsFormatError, /tensor "w": expected an object/],
  ['a missing tensor', () => { const list = entries(); const last = list.pop()!; return file(headerText(list), data.subarray(0, last.begin)); }, WeightsMismatchError, /1 missing.*missing: classifier.bias \[1000\]/],
  ['an unexpected tensor', () => edited((list) => { list.push({ name: 'extra.weight', dtype: 'F32', shape: [1], begin: data.length, end: data.length + 4 }); }, concat(data, new Uint8Array(4))), WeightsMismatchError, /1 unexpected.*unexpected: extra.weight \[1\]/],
  ['a mis-shaped tensor', () => edited((list) => { byName(list, 'conv_stem.weight').shape = [3, 32, 3, 3]; }), WeightsMismatchError, /wrong shape: conv_stem.weight expected \[32, 3, 3, 3\] but file has \[3, 32, 3, 3\]/],
  ['an integer tensor where floats belong', () => edited((list) => { byName(list, 'bn1.weight').dtype = 'I32'; }), WeightsMismatchError, /not float .*bn1.weight \(I32\)/],
  ['names under a wrapper prefix', () => edited((list) => { for (const e of list) e.name = `module.${e.name}`; }), WeightsMismatchError, /strip it before loading/],
  // B1 is B0 with more blocks: B0's tensors are all there, plus the extra blocks'.
  ['the weights of B1', () => createSyntheticWeights({ variant: 'b1', seed: 1 }), WeightsMismatchError, /0 missing, [1-9]\d* unexpected, 0 with the wrong shape/],
  ['the weights of B2', () => createSyntheticWeights({ variant: 'b2', seed: 1 }), WeightsMismatchError, /looks like a different variant/],
];

describe('EfficientNet.create refuses hostile weights before building anything', () => {
  const instantiate = vi.spyOn(WebAssembly, 'instantiate');
  afterAll(() => instantiate.mockRestore());

  beforeAll(async () => {
    // The spy sees core instances: a valid file makes exactly one.
    instantiate.mockClear();
    (await EfficientNet.create({ variant: 'b0', weights: b0 })).dispose();
    expect(instantiate).toHaveBeenCalledTimes(1);
  });

  it.each(cases)('%s', async (_label, weights, errorClass, message) => {
    instantiate.mockClear();
    const refusal = EfficientNet.create({ variant: 'b0', weights: weights() });
    await expect(refusal).rejects.toBeInstanceOf(errorClass);
    const error = (await refusal.catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
    expect(instantiate).not.toHaveBeenCalled();
  });

  it('leaves the caller\'s bytes untouched', () => {
    expect(Buffer.compare(b0, pristine)).toBe(0);
  });
});
