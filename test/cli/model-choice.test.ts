/**
 * Every command that runs a model takes it the same way (src/cli/load-model.ts): a timm preset with
 * `--model`, or a bare variant with `--variant` and optional `--padding` / `--bn-eps`, with a file
 * or `--random-weights`. The built CLI's answers are compared with the library's for the same choice.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EfficientNet, type Prediction } from '../../src/efficientnet.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { runCli } from '../support/cli.js';
import { postImage, startServer } from '../serve/support.js';

const PHOTO = fileURLToPath(new URL('../../data/images/panda.jpg', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'efficientnet-model-choice-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface ClassifyJson { file: string; top: Prediction[]; model: string; syntheticWeights: boolean }

function classifyJson(args: string[]): ClassifyJson[] {
  const result = runCli(['classify', PHOTO, '--random-weights', '--topk', '3', '--json', ...args]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as ClassifyJson[];
}

/** The library's top 3 for the photo, on the synthetic weights the CLI makes (seed 0). */
async function libraryTop(options: { variant: 'b0' | 'lite0'; padding?: 'same' | 'symmetric' }): Promise<Prediction[]> {
  const net = await EfficientNet.create({ ...options, weights: createSyntheticWeights({ variant: options.variant, seed: 0 }) });
  try {
    return await net.classify(new Uint8Array(readFileSync(PHOTO)), { topk: 3 });
  } finally {
    net.dispose();
  }
}

describe('classify --variant', () => {
  it('gives the library\'s answer for the bare variant and records it as the model', async () => {
    const [result] = classifyJson(['--variant', 'b0']);
    expect(result.model).toBe('b0');
    expect(result.syntheticWeights).toBe(true);
    expect(result.top).toEqual(await libraryTop({ variant: 'b0' }));
  });

  it('takes --padding, which changes the answer and is recorded with the variant', async () => {
    const [same] = classifyJson(['--variant', 'b0']);
    const [symmetric] = classifyJson(['--variant', 'b0', '--padding', 'symmetric', '--bn-eps', '1e-5']);
    expect(symmetric.model).toBe('b0 (padding symmetric, bn-eps 0.00001)');
    expect(symmetric.top).toEqual(await libraryTop({ variant: 'b0', padding: 'symmetric' }));
    expect(symmetric.top[0].probability).not.toBe(same.top[0].probability);
  });

  it('runs a member with no timm preset of its own here, Lite0', async () => {
    const [result] = classifyJson(['--variant', 'lite0']);
    expect(result.top).toEqual(await libraryTop({ variant: 'lite0' }));
  });

  it('refuses both or neither of --model and --variant, and an unknown variant, with the usage line', () => {
    for (const args of [['--model', 'tf_efficientnet_b0.ns_jft_in1k', '--variant', 'b0'], [], ['--variant', 'b9']]) {
      const result = runCli(['classify', PHOTO, '--random-weights', ...args]);
      expect(result.status).toBe(2);
      const [message, usage] = result.stderr.trimEnd().split('\n');
      expect(usage).toMatch(/^usage: efficientnet classify .*\(--model M \| --variant V /);
      expect(message).toMatch(args.includes('b9') ? /unknown variant "b9"/ : /give exactly one of --variant or --model/);
    }
  });

  it('asks for weights without naming a download when there is no preset', () => {
    const result = runCli(['classify', PHOTO, '--variant', 'b0']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--weights is required: download a weights file for it, or pass --random-weights/);
  });
});

describe('embed --variant', () => {
  it('writes the variant into the manifest and refuses to resume the directory under another model', () => {
    const out = join(work, 'embed');
    const first = runCli(['embed', PHOTO, '--variant', 'b0', '--random-weights', '--out', out, '--quiet']);
    expect(first.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { model: string; weights: { synthetic: boolean } };
    expect(manifest.model).toBe('b0');
    expect(manifest.weights.synthetic).toBe(true);
    const other = runCli(['embed', PHOTO, '--variant', 'b0', '--padding', 'symmetric', '--random-weights', '--out', out, '--quiet']);
    expect(other.status).not.toBe(0);
    expect(other.stderr).toMatch(/model/);
  });
});

describe('serve --variant', () => {
  it('serves the bare variant, names it at /v1/model and answers as the library does', async () => {
    const server = await startServer(['--variant', 'b0', '--padding', 'symmetric', '--threads', '1']);
    try {
      const model = await (await fetch(`${server.url}/v1/model`)).json() as { model: string; synthetic: boolean };
      expect(model.model).toBe('b0 (padding symmetric)');
      expect(model.synthetic).toBe(true);
      const answer = await postImage(server, '/v1/classify?topk=3', new Uint8Array(readFileSync(PHOTO)));
      expect(answer.status).toBe(200);
      const { top } = JSON.parse(answer.body.toString()) as { top: Prediction[] };
      // The HTTP answer carries each prediction's index, label and probability.
      const library = (await libraryTop({ variant: 'b0', padding: 'symmetric' })).map(({ index, label, probability }) => ({ index, label, probability }));
      expect(top).toEqual(library);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);
});
