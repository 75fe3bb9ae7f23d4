/**
 * The built CLI on Keras .h5 files: `inspect` names the format, the scheme and the file's
 * normalisation; `convert` writes the timm safetensors the fixture was made from, tensor for
 * tensor; a damaged file ends in one line and exit status 2.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryByteSource } from '../../src/weights/byte-source.js';
import { readFloat32 } from '../../src/weights/read.js';
import { openSafetensors } from '../../src/weights/safetensors.js';
import { runCli } from '../support/cli.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/keras/', import.meta.url));
const fixture = (name: string): string => join(FIXTURES, name);
const work = mkdtempSync(join(tmpdir(), 'efficientnet-keras-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('Keras .h5 files on the command line', () => {
  it('inspect reports HDF5, Keras names, the head and the normalisation in the file', () => {
    const result = runCli(['inspect', fixture('tiny-model.h5'), '--json']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as { normalization?: { mean: number[]; std: number[] } };
    expect(report).toMatchObject({ format: 'hdf5', naming: 'keras', classes: 10, dtypes: { F32: 199, I64: 1 } });
    expect(report.normalization!.mean).toEqual([0.5, 0.4, 0.3].map(Math.fround));
  });

  it('convert writes the timm file the fixture was made from, every tensor bit for bit', () => {
    const out = join(work, 'from-keras.safetensors');
    const result = runCli(['convert', fixture('tiny-weights.h5'), '--out', out]);
    expect(result.status).toBe(0);
    const converted = openSafetensors(memoryByteSource(new Uint8Array(readFileSync(out))));
    const original = openSafetensors(memoryByteSource(new Uint8Array(readFileSync(fixture('tiny.safetensors')))));
    expect([...converted.tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
    for (const name of original.tensors.keys()) expect(readFloat32(converted, name), name).toEqual(readFloat32(original, name));
  });

  it('a damaged file is one line and exit status 2', () => {
    const damaged = join(work, 'damaged.h5');
    writeFileSync(damaged, readFileSync(fixture('tiny-weights.h5')).subarray(0, 3000));
    const result = runCli(['inspect', damaged]);
    expect(result.status).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Keras \.h5 file: .* cannot be read, the HDF5 structure is damaged/);
  });

  it('classify without --weights for a Keras preset says where Keras keeps the file', () => {
    const result = runCli(['classify', '--example', '--model', 'keras/EfficientNetB0']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('efficientnetb0.h5 from https://storage.googleapis.com/keras-applications/efficientnetb0.h5');
  });
});
