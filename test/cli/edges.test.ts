/**
 * The edges a new user meets first: `--version`, mistyped commands and options answered in one
 * line with the closest valid name, every flag an error message recommends existing on the
 * command that printed it, a file name passed where image bytes belong, and synthetic weights
 * announcing themselves in the library's results. Needs `npm run build` first (the CLI runs from dist/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from '../../src/cli/suggest.js';
import { EfficientNet } from '../../src/efficientnet.js';
import { InputShapeError, ResourceLimitError } from '../../src/errors.js';
import { createSyntheticWeights, SYNTHETIC_METADATA_KEY } from '../../src/weights/synthetic.js';
import { runCli } from '../support/cli.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PHOTO = join(REPO, 'data', 'images', 'grace_hopper.jpg'); // 512x600 = 307,200 pixels
const MODEL = 'tf_efficientnet_b0.ns_jft_in1k';

describe('efficientnet --version', () => {
  it('prints the package name and version for --version, -v and version, and exits 0', () => {
    const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };
    for (const flag of ['--version', '-v', 'version']) {
      const result = runCli([flag]);
      expect(result.status, flag).toBe(0);
      expect(result.stdout).toBe(`${manifest.name} ${manifest.version}\n`);
    }
  });
});

describe('mistyped names', () => {
  it('finds the closest name only within a plausible typo', () => {
    expect(editDistance('tpok', 'topk')).toBe(2);
    expect(closestMatch('--tpok', ['--model', '--topk', '--batch'])).toBe('--topk');
    expect(closestMatch('--colour', ['--model', '--topk', '--batch'])).toBeNull();
    expect(closestMatch('clasify', ['classify', 'summary'])).toBe('classify');
  });

  it('answers an unknown option with one line: the closest option and all valid ones, exit 2', () => {
    const result = runCli(['classify', PHOTO, '--model', MODEL, '--random-weights', '--tpok', '3']);
    expect(result.status).toBe(2);
    const [first, ...rest] = result.stderr.trimEnd().split('\n');
    const prefix = 'efficientnet classify: unknown option --tpok (did you mean --topk?); valid options: ';
    expect(first.startsWith(prefix), first).toBe(true);
    const listed = first.slice(prefix.length).split(', ');
    expect(listed.every((option) => /^--[a-z][a-z-]*$/.test(option))).toBe(true);
    expect(listed).toEqual(expect.arrayContaining(['--model', '--weights', '--random-weights', '--topk', '--max-pixels', '--example', '--json']));
    expect(rest.every((line) => line.startsWith('usage: '))).toBe(true);
    expect(result.stderr).not.toMatch(/positional argument/);
  });

  it('says when an option lacks its value or a command takes no arguments', () => {
    expect(runCli(['summary', '--variant']).stderr).toMatch(/^efficientnet summary: option --variant needs a value$/m);
    expect(runCli(['summary', '--variant', 'b0', 'extra']).stderr).toMatch(/^efficientnet summary: unexpected argument "extra"/m);
  });

  it('answers an unknown command with the closest one', () => {
    const result = runCli(['clasify']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^efficientnet: unknown command "clasify" \(did you mean "classify"\?\); commands: classify, /);
  });
});

describe('flags that error messages recommend', () => {
  it('classify refuses a photo above --max-pixels with a message naming --max-pixels, and accepts it under a raised limit', () => {
    const refused = runCli(['classify', PHOTO, '--model', MODEL, '--random-weights', '--max-pixels', '307199']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('512x600 = 307200 pixels, above the limit of 307199');
    expect(refused.stderr).toContain('--max-pixels');
    const accepted = runCli(['classify', PHOTO, '--model', MODEL, '--random-weights', '--max-pixels', '307200', '--json', '--topk', '1']);
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(JSON.parse(accepted.stdout)[0].top).toHaveLength(1);
  });

  it('preprocess takes --max-pixels too', () => {
    const refused = runCli(['preprocess', PHOTO, '--model', MODEL, '--max-pixels', '1000', '--out', join(REPO, 'never-written.npy')]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/above the limit of 1000.*--max-pixels/);
  });

  it('classify --example classifies the photos shipped in the package', () => {
    const result = runCli(['classify', '--example', '--model', MODEL, '--random-weights', '--json', '--topk', '1']);
    expect(result.status, result.stderr).toBe(0);
    const files = (JSON.parse(result.stdout) as { file: string }[]).map((r) => r.file);
    expect(files.map((f) => f.slice(join(REPO, 'data', 'images').length + 1))).toEqual(['chelsea.png', 'grace_hopper.jpg', 'panda.jpg']);
  });
});

describe('the library', () => {
  const weights = createSyntheticWeights({ variant: 'b0', seed: 5 });

  it('refuses a file name where image bytes belong, saying to pass bytes, before decoding anything', async () => {
    const net = await EfficientNet.create({ model: MODEL, weights });
    try {
      const error = await net.classify('panda.jpg' as unknown as Uint8Array).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputShapeError);
      expect((error as Error).message).toMatch(/got the string "panda\.jpg" where image bytes were expected; pass the file's bytes/);
      const blob = await net.embed(new Blob([readFileSync(PHOTO)]) as unknown as Uint8Array).catch((e: unknown) => e);
      expect(blob).toBeInstanceOf(InputShapeError);
      expect((blob as Error).message).toMatch(/Blob or File/);
      const number = await net.classify(42 as unknown as Uint8Array).catch((e: unknown) => e);
      expect((number as Error).message).toMatch(/JPEG or PNG bytes .* got number/);
      // The instance still works afterwards.
      expect(await net.classify(readFileSync(PHOTO), { topk: 1 })).toHaveLength(1);
      const limited = await net.classify(readFileSync(PHOTO), { maxPixels: 10 }).catch((e: unknown) => e);
      expect(limited).toBeInstanceOf(ResourceLimitError);
    } finally {
      net.dispose();
    }
  });

  it('marks results from synthetic weights, and only those', async () => {
    const synthetic = await EfficientNet.create({ model: MODEL, weights });
    // The same tensors with the metadata value changed in place (same length, so offsets hold): not synthetic.
    const marked = `"${SYNTHETIC_METADATA_KEY}":"true"`;
    const header = new TextDecoder().decode(weights.subarray(8, 8 + Number(new DataView(weights.buffer, weights.byteOffset).getBigUint64(0, true))));
    expect(header).toContain(marked);
    const plain = weights.slice();
    plain.set(new TextEncoder().encode(header.replace(marked, `"${SYNTHETIC_METADATA_KEY}":"nope"`)), 8);
    const real = await EfficientNet.create({ model: MODEL, weights: plain });
    try {
      expect(synthetic.synthetic).toBe(true);
      expect(real.synthetic).toBe(false);
      const photo = readFileSync(PHOTO);
      const [fromSynthetic, fromReal] = [await synthetic.classify(photo, { topk: 3 }), await real.classify(photo, { topk: 3 })];
      expect(fromSynthetic.map((p) => p.synthetic)).toEqual([true, true, true]);
      expect(fromReal.map((p) => p.synthetic)).toEqual([false, false, false]);
      expect(fromReal.map((p) => p.probability)).toEqual(fromSynthetic.map((p) => p.probability)); // same tensors, same answer
    } finally {
      synthetic.dispose();
      real.dispose();
    }
  });
});
