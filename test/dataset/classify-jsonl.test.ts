/**
 * `efficientnet classify --jsonl`: one line per input in list order (errors in their places),
 * probabilities equal to the library's classify of each photo alone, and the embed command's
 * resume (after SIGKILL, to identical bytes) and shard rules.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { runCli } from '../support/cli.js';
import { MODEL, photoCopies, removeScratch, scratch, startCli, writeList } from './support.js';

afterAll(removeScratch);

const lines = (text: string): Record<string, unknown>[] => text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('classify --jsonl', () => {
  const root = scratch('classify-jsonl');
  const photos = photoCopies(join(root, 'photos'), 24);
  const broken = join(root, 'photos', '0003b.jpg');
  writeFileSync(broken, 'not a photo');
  const list = writeList(join(root, 'list.txt'), [...photos, broken]);
  const args = (target: string): string[] =>
    ['classify', '--list', list, '--model', MODEL, '--random-weights', '--topk', '3', '--batch', '2', '--checkpoint-seconds', '0', '--quiet', '--jsonl', target];

  it('streams one line per input to stdout, in list order, equal to classifying each photo alone', async () => {
    const run = runCli(args('-'));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(3); // one file skipped
    const results = lines(run.stdout);
    const expectedOrder = [...photos.slice(0, 4), broken, ...photos.slice(4)];
    expect(results.map((r) => r.path)).toEqual(expectedOrder);
    expect(results[4]).toMatchObject({ path: broken, code: 'IMAGE_DECODE' });
    const net = await EfficientNet.create({ model: MODEL, weights: createSyntheticWeights({ variant: 'b0', seed: 0 }) });
    for (const i of [0, 1, 2, 5]) {
      const alone = await net.classify(new Uint8Array(readFileSync(expectedOrder[i])), { topk: 3 });
      expect(results[i].top).toEqual(alone.map((p) => ({ index: p.index, label: p.label, probability: p.probability })));
    }
    net.dispose();
  });

  it('a file output survives SIGKILL and resumes to the bytes of an uninterrupted run; shards concatenate to it', async () => {
    const whole = join(root, 'whole.jsonl');
    expect(runCli(args(whole)).status).toBe(3);
    expect(runCli(args(whole)).stdout).toMatch(/already complete: 25 lines, 1 skipped; nothing to do/);

    const killed = join(root, 'killed.jsonl');
    const { child, done } = startCli(args(killed));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const manifest = (() => {
        try {
          return JSON.parse(readFileSync(`${killed}.manifest.json`, 'utf8')) as { processed: number };
        } catch {
          return null;
        }
      })();
      if (manifest !== null && manifest.processed >= 4) break;
      if (Date.now() > deadline) throw new Error('no checkpoint within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await done;
    const partial = JSON.parse(readFileSync(`${killed}.manifest.json`, 'utf8')) as { state: string; processed: number };
    expect(partial.state).toBe('partial');
    expect(partial.processed).toBeLessThan(25);
    expect(runCli(args(killed)).status).toBe(3);
    expect(Buffer.compare(readFileSync(killed), readFileSync(whole))).toBe(0);

    const shards = [0, 1].map((i) => join(root, `shard-${i}.jsonl`));
    // The broken file (list position 4) falls in shard 0, which alone reports a skip.
    expect(shards.map((file, i) => runCli([...args(file), '--shard', `${i}/2`]).status)).toEqual([3, 0]);
    expect(Buffer.compare(Buffer.concat(shards.map((f) => readFileSync(f))), readFileSync(whole))).toBe(0);
  });
});
