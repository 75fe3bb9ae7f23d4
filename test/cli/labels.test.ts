/**
 * `--labels FILE` on `classify` (table, JSON and the `--jsonl` pipeline) and `serve`: a B0 file
 * with a 10-class head classifies under the names in the file, as the library does with the same
 * labels; a file with the wrong count, a blank line or bad JSON is one line and exit status 2.
 * Runs the built CLI (`npm run build:ts`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EfficientNet, type Prediction } from '../../src/efficientnet.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { runCli } from '../support/cli.js';
import { postImage, startServer } from '../serve/support.js';

const MODEL = 'tf_efficientnet_b0.ns_jft_in1k';
const PHOTO = new URL('../../data/images/panda.jpg', import.meta.url).pathname;
const FRUIT = ['apple', 'banana', 'cherry', 'date', 'elderberry', 'fig', 'grape', 'honeydew', 'kiwi', 'lemon'];

const work = mkdtempSync(join(tmpdir(), 'efficientnet-labels-cli-'));
const path = (name: string): string => join(work, name);
let weights: Uint8Array;
/** The library's answer for the photo with the same weights and labels: what the CLI must print. */
let expected: Prediction[];

beforeAll(async () => {
  // B0 (the preset's variant) with a classifier fine-tuned in shape to 10 classes.
  weights = createSyntheticWeights({ variant: 'b0', seed: 5, numClasses: 10 });
  writeFileSync(path('ten.safetensors'), weights);
  writeFileSync(path('fruit.txt'), `${FRUIT.join('\n')}\n`);
  writeFileSync(path('fruit-crlf.txt'), FRUIT.join('\r\n'));
  writeFileSync(path('fruit.json'), JSON.stringify(FRUIT));
  writeFileSync(path('nine.txt'), `${FRUIT.slice(0, 9).join('\n')}\n`);
  writeFileSync(path('blank.txt'), `${FRUIT.slice(0, 5).join('\n')}\n\n${FRUIT.slice(5).join('\n')}\n`);
  writeFileSync(path('object.json'), JSON.stringify({ labels: FRUIT }));
  const net = await EfficientNet.create({ model: MODEL, weights, labels: FRUIT });
  try {
    expected = await net.classify(new Uint8Array(readFileSync(PHOTO)), { topk: 3 });
  } finally {
    net.dispose();
  }
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const classify = (...args: string[]) => runCli(['classify', PHOTO, '--model', MODEL, '--weights', path('ten.safetensors'), '--topk', '3', ...args]);

function expectRefusal(result: ReturnType<typeof runCli>, message: RegExp): void {
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(message);
}

describe('classify --labels', () => {
  it.each(['fruit.txt', 'fruit-crlf.txt', 'fruit.json'])('names the 10 classes from %s, as the library does', (file) => {
    const result = classify('--labels', path(file), '--json');
    expect(result.status).toBe(0);
    const [answer] = JSON.parse(result.stdout) as { top: Prediction[] }[];
    expect(answer.top).toEqual(expected);
    for (const p of answer.top) expect(p.label).toBe(FRUIT[p.index]);
  });

  it('prints the labels in the table', () => {
    const result = classify('--labels', path('fruit.txt'));
    expect(result.status).toBe(0);
    const rows = result.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(3);
    rows.forEach((row, i) => expect(row.trim().split(/\s+/).slice(1)).toEqual([String(expected[i].index), FRUIT[expected[i].index]]));
  });

  it('without --labels, labels the 10 classes by index', () => {
    const [answer] = JSON.parse(classify('--json').stdout) as { top: Prediction[] }[];
    for (const p of answer.top) expect(p.label).toBe(`class ${p.index}`);
  });

  it.each([
    ['nine.txt', /9 labels were given but the weights' classifier has 10 classes/],
    ['blank.txt', /line 6 is empty/],
    ['object.json', /must hold a JSON array of strings/],
    ['missing.txt', /cannot read labels file ".*missing\.txt": ENOENT/],
  ])('refuses %s: one line, exit 2', (file, message) => {
    expectRefusal(classify('--labels', path(file)), message);
  });

  it('labels the --jsonl lines, and refuses a wrong count before writing any', () => {
    const out = path('top.jsonl');
    const result = classify('--labels', path('fruit.json'), '--jsonl', out, '--quiet');
    expect(result.status).toBe(0);
    const [line] = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { top: { index: number; label: string; probability: number }[] });
    expect(line.top).toEqual(expected.map(({ index, label, probability }) => ({ index, label, probability })));
    const refused = path('refused.jsonl');
    expectRefusal(classify('--labels', path('nine.txt'), '--jsonl', refused, '--quiet'), /9 labels were given but the weights' classifier has 10 classes/);
    expect(() => readFileSync(refused)).toThrow();
  });
});

describe('serve --labels', () => {
  // serve --random-weights runs the preset's 1000-class head, so these files name 1000 classes.
  it('answers with the labels given', async () => {
    writeFileSync(path('thousand.txt'), `${Array.from({ length: 1000 }, (_, i) => `thing ${i}`).join('\n')}\n`);
    const server = await startServer(['--threads', '1', '--labels', path('thousand.txt')]);
    try {
      const answer = await postImage(server, '/v1/classify?topk=3', new Uint8Array(readFileSync(PHOTO)));
      expect(answer.status).toBe(200);
      const { top } = JSON.parse(answer.body.toString()) as { top: { index: number; label: string }[] };
      expect(top).toHaveLength(3);
      for (const p of top) expect(p.label).toBe(`thing ${p.index}`);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);

  it('refuses a wrong count in one line with exit 2 before it listens, reading only the file\'s header', () => {
    const synthetic = runCli(['serve', '--model', MODEL, '--random-weights', '--port', '0', '--labels', path('fruit.txt')]);
    const fromFile = runCli(['serve', '--model', MODEL, '--weights', path('ten.safetensors'), '--port', '0', '--labels', path('nine.txt')]);
    for (const [result, message] of [
      [synthetic, /10 labels were given but the weights' classifier has 1000 classes/],
      [fromFile, /9 labels were given but the weights' classifier has 10 classes/],
    ] as const) {
      expect(result.status).toBe(2);
      expect(result.stdout).not.toMatch(/listening/);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    }
  });
});
