/**
 * The command line under hostile files: a bad input prints one line to stderr and exits 2, an
 * internal failure exits 1, --verbose adds the stack, and a refused command writes nothing.
 * (Runs the built CLI, as test/support/cli.ts explains.)
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/cli/npy.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { encodeJpeg, randomImage } from '../image/support.js';
import { runCli, type CliResult } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'efficientnet-hostile-cli-'));
const path = (name: string): string => join(dir, name);
const outputs = mkdtempSync(join(tmpdir(), 'efficientnet-hostile-out-'));

/** A `.npy` version 1.0 with the given header dict and data length. */
function npy(header: string, dataBytes: number): Uint8Array {
  const padded = header.padEnd(118, ' ') + '\n'; // 10 + 118 + 1 = 128 bytes before the data
  const bytes = new Uint8Array(10 + padded.length + dataBytes); // [magic, version, length, header, data]
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, padded.length, true);
  bytes.set(new TextEncoder().encode(padded), 10);
  return bytes;
}

const lines = (stderr: string): string[] => stderr.trimEnd().split('\n');
const STACK_LINE = /^\s+at /m;

/** `run` with everything valid but what the case changes. */
const run = (overrides: Record<string, string>): string[] => {
  const options = { '--variant': 'b0', '--weights': path('b0.safetensors'), '--input': path('good.npy'), '--logits': join(outputs, 'logits.npy'), ...overrides };
  return ['run', ...Object.entries(options).flat()];
};
const classify = (image: string): string[] => ['classify', path(image), '--model', 'tf_efficientnet_b0.ns_jft_in1k', '--weights', path('b0.safetensors')];
const preprocess = (image: string): string[] => ['preprocess', path(image), '--model', 'tf_efficientnet_b0.ns_jft_in1k', '--out', join(outputs, 'x.npy')];

const BAD_INPUTS: [label: string, args: () => string[]][] = [
  ['run: an empty weights file', () => run({ '--weights': path('empty.safetensors') })],
  ['run: weights cut short in the data', () => run({ '--weights': path('cut.safetensors') })],
  ['run: the weights of another variant', () => run({ '--variant': 'b1' })],
  ['run: a .npy with bad magic bytes', () => run({ '--input': path('magic.npy') })],
  ['run: a .npy of version 9.0', () => run({ '--input': path('version.npy') })],
  ['run: a Fortran-order .npy', () => run({ '--input': path('fortran.npy') })],
  ['run: an int32 .npy', () => run({ '--input': path('int32.npy') })],
  ['run: a .npy with four channels', () => run({ '--input': path('channels.npy') })],
  ['run: a .npy with a zero-sized batch', () => run({ '--input': path('zero.npy') })],
  ['run: a .npy with a negative size', () => run({ '--input': path('negative.npy') })],
  ['run: a truncated .npy', () => run({ '--input': path('truncated.npy') })],
  ['classify: an empty image', () => classify('empty.jpg')],
  ['classify: a truncated JPEG', () => classify('cut.jpg')],
  ['classify: text named .png', () => classify('text.png')],
  ['classify: a GIF named .jpg', () => classify('gif.jpg')],
  ['preprocess: a PNG declaring 20000x20000', () => preprocess('huge.png')],
  ['preprocess: a missing image file', () => preprocess('absent.png')],
];

describe('the CLI with hostile files', () => {
  beforeAll(async () => {
    const weights = createSyntheticWeights({ variant: 'b0', seed: 41 });
    writeFileSync(path('b0.safetensors'), weights);
    writeFileSync(path('empty.safetensors'), new Uint8Array(0));
    writeFileSync(path('cut.safetensors'), weights.subarray(0, weights.length - 100));
    writeFileSync(path('good.npy'), encodeNpy(new Float32Array(3 * 16 * 16), [1, 3, 16, 16]));
    writeFileSync(path('magic.npy'), new TextEncoder().encode('NUMPY but not really, sorry'));
    writeFileSync(path('fortran.npy'), npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3, 2, 2), }", 48));
    writeFileSync(path('int32.npy'), npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 3, 2, 2), }", 48));
    const version = encodeNpy(new Float32Array(3 * 16 * 16), [1, 3, 16, 16]);
    version[6] = 9;
    writeFileSync(path('version.npy'), version);
    writeFileSync(path('channels.npy'), encodeNpy(new Float32Array(4 * 8 * 8), [1, 4, 8, 8]));
    writeFileSync(path('negative.npy'), npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, -16, 16), }", 0));
    writeFileSync(path('zero.npy'), npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3, 16, 16), }", 0));
    writeFileSync(path('truncated.npy'), npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 16, 16), }", 100));
    const jpeg = await encodeJpeg(randomImage(32, 24, 9));
    writeFileSync(path('empty.jpg'), new Uint8Array(0));
    writeFileSync(path('cut.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    writeFileSync(path('text.png'), 'this is not a picture\n');
    writeFileSync(path('gif.jpg'), 'GIF89a\x01\x00\x01\x00\x00\x00\x00;');
    const huge = new Uint8Array(8 + 25 + 12); // [signature, IHDR, IEND]
    huge.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(huge.buffer).setUint32(16, 20_000);
    new DataView(huge.buffer).setUint32(20, 20_000);
    huge.set([8, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44], 24);
    writeFileSync(path('huge.png'), huge);
  });

  it.each(BAD_INPUTS)('%s: one line on stderr, exit 2, nothing written', (_label, args) => {
    const result: CliResult = runCli(args());
    expect(result.status).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^efficientnet (run|classify|preprocess): \S/);
    expect(result.stdout).toBe('');
    expect(readdirSync(outputs)).toEqual([]);
  });

  it('exits 1 for a failure that is not the input\'s fault, still on one line', () => {
    writeFileSync(path('a-file'), '');
    const result = runCli(run({ '--logits': path('a-file/logits.npy') }));
    expect(result.status).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^efficientnet run: .*a-file/);
  });

  it('adds the stack with --verbose, for typed and untyped failures alike', () => {
    const typed = runCli([...run({ '--input': path('fortran.npy') }), '--verbose']);
    expect(typed.status).toBe(2);
    expect(typed.stderr).toMatch(/^efficientnet run: .*Fortran/);
    expect(typed.stderr).toMatch(STACK_LINE);
    const untyped = runCli([...run({ '--logits': path('a-file/logits.npy') }), '--verbose']);
    expect(untyped.status).toBe(1);
    expect(untyped.stderr).toMatch(STACK_LINE);
    expect(runCli(run({ '--input': path('fortran.npy') })).stderr).not.toMatch(STACK_LINE);
  });

  it('writes its outputs when nothing is wrong (the refusals above are not vacuous)', () => {
    const result = runCli(run({}));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(existsSync(join(outputs, 'logits.npy'))).toBe(true);
  });
});
