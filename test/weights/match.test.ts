import { describe, expect, it } from 'vitest';
import { WeightsMismatchError } from '../../src/errors.js';
import { ignoreBatchNormCounters, matchTensors, type ExpectedTensor } from '../../src/weights/match.js';
import { parseSafetensors, type SafetensorsFile } from '../../src/weights/safetensors.js';
import { writeSafetensors } from '../../src/weights/safetensors-writer.js';

const elements = (shape: readonly number[]): number => shape.reduce((product, size) => product * size, 1);

function fileWith(tensors: readonly ExpectedTensor[]): SafetensorsFile {
  return parseSafetensors(
    writeSafetensors(tensors.map(({ name, shape }) => ({ name, shape, data: new Float32Array(elements(shape)) }))),
  );
}

function mismatchMessage(run: () => void): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WeightsMismatchError);
    return (error as Error).message;
  }
  throw new Error('expected a WeightsMismatchError, but matching succeeded');
}

/** A small timm-like layer list: stem conv, one BN, classifier. */
const network: ExpectedTensor[] = [
  { name: 'conv_stem.weight', shape: [32, 3, 3, 3] },
  { name: 'bn1.weight', shape: [32] },
  { name: 'bn1.bias', shape: [32] },
  { name: 'bn1.running_mean', shape: [32] },
  { name: 'bn1.running_var', shape: [32] },
  { name: 'classifier.weight', shape: [10, 32] },
  { name: 'classifier.bias', shape: [10] },
];

describe('matchTensors', () => {
  it('accepts a file with exactly the expected tensors, ignoring BN step counters by default', () => {
    const file = fileWith([...network, { name: 'bn1.num_batches_tracked', shape: [] }]);
    expect(() => matchTensors(file, network)).not.toThrow();
  });

  it('reports missing, unexpected and mis-shaped tensors together in one error', () => {
    const file = fileWith([
      { name: 'conv_stem.weight', shape: [32, 3, 5, 5] },
      ...network.slice(1, 5),
      { name: 'classifier.weight', shape: [10, 32] },
      { name: 'head.extra', shape: [4] },
    ]);
    const message = mismatchMessage(() => matchTensors(file, network, { describe: 'test network' }));
    expect(message).toContain('does not match test network: 1 missing, 1 unexpected, 1 with the wrong shape, 0 not float');
    expect(message).toContain('missing: classifier.bias [10]');
    expect(message).toContain('unexpected: head.extra [4]');
    expect(message).toContain('wrong shape: conv_stem.weight expected [32, 3, 3, 3] but file has [32, 3, 5, 5]');
    expect(message).not.toContain('hint');
    expect(message).not.toContain('\n');
  });

  it('treats a different rank as a wrong shape, even with the same element count', () => {
    const file = fileWith([{ name: 'fc.weight', shape: [10] }, { name: 'fc.bias', shape: [10, 1] }]);
    const expected = [{ name: 'fc.weight', shape: [10, 1] }, { name: 'fc.bias', shape: [10] }];
    const message = mismatchMessage(() => matchTensors(file, expected));
    expect(message).toContain('fc.weight expected [10, 1] but file has [10]');
    expect(message).toContain('fc.bias expected [10] but file has [10, 1]');
  });

  it('refuses expected tensors stored with a non-float dtype', () => {
    // A hand-made file: the writer only produces float tensors.
    const header = JSON.stringify({ 'bn1.weight': { dtype: 'I32', shape: [32], data_offsets: [0, 128] } });
    const bytes = new Uint8Array(8 + header.length + 128); // [file bytes]
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    const message = mismatchMessage(() => matchTensors(parseSafetensors(bytes), [{ name: 'bn1.weight', shape: [32] }]));
    expect(message).toContain('not float (expected F32, F16, BF16, F64): bn1.weight (I32)');
  });

  it('uses a custom ignore rule instead of the default', () => {
    const file = fileWith([...network, { name: 'bn1.num_batches_tracked', shape: [] }, { name: 'aux.weight', shape: [2] }]);
    const ignoreAux = (name: string): boolean => name.startsWith('aux.');
    expect(mismatchMessage(() => matchTensors(file, network, { ignore: ignoreAux }))).toContain(
      'unexpected: bn1.num_batches_tracked []',
    );
    expect(() => matchTensors(file, network, { ignore: (name) => ignoreAux(name) || ignoreBatchNormCounters(name) })).not.toThrow();
  });

  it('caps each list at 20 entries and counts the rest', () => {
    const many = Array.from({ length: 25 }, (_, i) => ({ name: `layer${i}.weight`, shape: [i + 1] }));
    const message = mismatchMessage(() => matchTensors(fileWith([]), many));
    expect(message).toContain('layer19.weight [20], … and 5 more');
    expect(message).not.toContain('layer20.weight');
  });

  it('hints at a different architecture when most expected names are missing', () => {
    const file = fileWith([{ name: 'features.0.0.weight', shape: [32, 3, 3, 3] }, ...network.slice(5)]);
    expect(mismatchMessage(() => matchTensors(file, network))).toContain('looks like a different architecture or variant');
  });

  it('hints at a different variant when the names match but most shapes differ', () => {
    const wider = network.map((tensor) => ({ ...tensor, shape: tensor.shape.map((size) => (size === 32 ? 40 : size)) }));
    expect(mismatchMessage(() => matchTensors(fileWith(wider), network))).toContain('looks like a different variant');
  });

  it('hints at a name prefix when the file wraps every name', () => {
    const wrapped = network.map((tensor) => ({ ...tensor, name: `module.${tensor.name}` }));
    expect(mismatchMessage(() => matchTensors(fileWith(wrapped), network))).toContain('carry the prefix "module."');
  });
});
