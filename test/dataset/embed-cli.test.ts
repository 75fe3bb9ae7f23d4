/**
 * `efficientnet embed` and `merge` end to end, as a user runs them: the walk order, bad files,
 * rows bit-identical to the library's single-image embed, float16 and stage outputs, refusal of
 * a directory from another run, resume after SIGKILL and SIGTERM with final bytes equal to an
 * uninterrupted run, and three shards merged into the single run's bytes.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { parseNpy } from '../../src/cli/npy.js';
import { decodeFloat16Into, encodeFloat16Into } from '../../src/weights/float16.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { runCli } from '../support/cli.js';
import {
  differingFiles, MAIN, MODEL, PHOTOS, photoCopies, readManifest, removeScratch, scratch, startCli, waitForCheckpoint, writeList,
} from './support.js';

afterAll(removeScratch);

const jsonl = (path: string): Record<string, unknown>[] =>
  readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

let net: EfficientNet;
beforeAll(async () => {
  net = await EfficientNet.create({ model: MODEL, weights: createSyntheticWeights({ variant: 'b0', seed: 0 }) });
});

describe('a folder with good and bad files', () => {
  const root = scratch('embed-tree');
  const tree = join(root, 'photos');
  let out: string;
  let result: ReturnType<typeof runCli>;

  beforeAll(() => {
    mkdirSync(join(tree, 'b'), { recursive: true });
    mkdirSync(join(tree, 'a-c'), { recursive: true });
    copyFileSync(PHOTOS[0], join(tree, 'b', 'cat.png'));
    copyFileSync(PHOTOS[1], join(tree, 'b', 'Hopper.JPG')); // upper-case extension: still an image
    copyFileSync(PHOTOS[1], join(tree, 'a-c', 'hopper.Jpeg'));
    copyFileSync(PHOTOS[2], join(tree, 'panda.jpg')); // above --max-pixels below
    symlinkSync(PHOTOS[0], join(tree, 'b', 'linked.png')); // links to files are followed
    symlinkSync(join(tree, 'b'), join(tree, 'loop')); // links to directories are not
    writeFileSync(join(tree, 'notes.txt'), 'not an image'); // not an image extension: not walked
    writeFileSync(join(tree, 'b', 'garbage.jpg'), 'this is not a JPEG');
    writeFileSync(join(tree, 'a-c', 'short.png'), readFileSync(PHOTOS[0]).subarray(0, 5000));
    const list = writeList(join(root, 'list.txt'), [join(root, 'gone.jpg')]); // vanished since the list was made
    out = join(root, 'out');
    result = runCli(['embed', tree, '--list', list, '--model', MODEL, '--random-weights', '--out', out, '--batch', '2', '--max-pixels', '400000', '--quiet']);
  });

  it('walks in path-byte order, follows image types in any case, and skips bad files with exit status 3', () => {
    expect(result.stderr).toBe('');
    expect(result.status).toBe(3);
    const index = jsonl(join(out, 'index.jsonl'));
    // "a-c" sorts before "b" by bytes ('-' is 0x2d, '/' is 0x2f): per-directory sorting would differ.
    expect(index).toEqual([
      { row: 0, path: join(tree, 'a-c', 'hopper.Jpeg') },
      { row: 1, path: join(tree, 'b', 'Hopper.JPG') },
      { row: 2, path: join(tree, 'b', 'cat.png') },
      { row: 3, path: join(tree, 'b', 'linked.png') },
    ]);
    const errors = jsonl(join(out, 'errors.jsonl'));
    expect(errors.map((e) => [e.path, e.code])).toEqual([
      [join(root, 'gone.jpg'), 'FILE_READ'],
      [join(tree, 'a-c', 'short.png'), 'IMAGE_DECODE'],
      [join(tree, 'b', 'garbage.jpg'), 'IMAGE_DECODE'],
      [join(tree, 'panda.jpg'), 'RESOURCE_LIMIT'],
    ]);
    expect(errors[0].error).toMatch(/does not exist .*ENOENT/);
    expect(errors[1].error).toMatch(/truncated/);
    expect(errors[2].error).toMatch(/not a JPEG or PNG/);
    expect(errors[3].error).toMatch(/above the limit of 400000/);
    const manifest = readManifest(out)!;
    expect(manifest).toMatchObject({ state: 'complete', rows: 4, errors: 4, processed: 8 });
  });

  it('writes rows bit-identical to embedding each photo alone', async () => {
    const matrix = parseNpy(readFileSync(join(out, 'embeddings.npy')));
    expect(matrix.shape).toEqual([4, 1280]);
    const expected = [PHOTOS[1], PHOTOS[1], PHOTOS[0], PHOTOS[0]];
    for (const [row, photo] of expected.entries()) {
      const alone = await net.embed(new Uint8Array(readFileSync(photo)));
      expect(sameBits(matrix.data.subarray(row * 1280, (row + 1) * 1280), alone), `row ${row}`).toBe(true);
    }
  });

  it('does nothing on a complete directory and says so, with the same exit status', () => {
    const before = statSync(join(out, 'embeddings.npy')).mtimeMs;
    const again = runCli(['embed', tree, '--list', join(root, 'list.txt'), '--model', MODEL, '--random-weights', '--out', out, '--max-pixels', '400000', '--quiet']);
    expect(again.status).toBe(3);
    expect(again.stdout).toMatch(/already complete: 4 rows, 4 skipped; nothing to do/);
    expect(statSync(join(out, 'embeddings.npy')).mtimeMs).toBe(before);
  });

  it('refuses a directory made from other weights or another list, before touching it', () => {
    const weights = join(root, 'other.safetensors');
    expect(runCli(['init-weights', '--variant', 'b0', '--seed', '1', '--out', weights]).status).toBe(0);
    const other = runCli(['embed', tree, '--list', join(root, 'list.txt'), '--model', MODEL, '--weights', weights, '--out', out, '--max-pixels', '400000', '--quiet']);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/was made by a different run \(weights SHA-256/);
    const fewer = runCli(['embed', join(tree, 'b'), '--model', MODEL, '--random-weights', '--out', out, '--quiet']);
    expect(fewer.status).toBe(2);
    expect(fewer.stderr).toMatch(/different run \(input list/);
    expect(readManifest(out)).toMatchObject({ state: 'complete', rows: 4 });
    // A data file cut behind the manifest's back is refused rather than padded with zeros.
    const damaged = join(root, 'damaged');
    cpSync(out, damaged, { recursive: true });
    writeFileSync(join(damaged, 'index.jsonl'), '');
    const resumed = runCli(['embed', tree, '--list', join(root, 'list.txt'), '--model', MODEL, '--random-weights', '--out', damaged, '--max-pixels', '400000', '--quiet']);
    expect(resumed.status).toBe(2);
    expect(resumed.stderr).toMatch(/index.jsonl is 0 bytes but manifest.json records \d+ committed bytes; remove .* to start over/);
  });

  it('turns an unreadable file into an error row (permission denied, run as an unprivileged user)', () => {
    const dir = join(root, 'locked');
    mkdirSync(dir);
    copyFileSync(PHOTOS[0], join(dir, 'open.png'));
    copyFileSync(PHOTOS[0], join(dir, 'locked.png'));
    chmodSync(join(dir, 'locked.png'), 0o000);
    chmodSync(root, 0o777);
    chmodSync(dir, 0o777);
    const lockedOut = join(dir, 'out');
    // Root reads any file, so when the tests run as root the command runs as "nobody" (uid 65534).
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const run = spawnSync(process.execPath, [MAIN, 'embed', dir, '--model', MODEL, '--random-weights', '--out', lockedOut, '--quiet'], { encoding: 'utf8', ...asUser });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(3);
    expect(jsonl(join(lockedOut, 'errors.jsonl'))).toEqual([{ path: join(dir, 'locked.png'), error: 'cannot read: permission denied (EACCES)', code: 'FILE_READ' }]);
    expect(jsonl(join(lockedOut, 'index.jsonl'))).toEqual([{ row: 0, path: join(dir, 'open.png') }]);
  });
});

describe('layers and dtypes', () => {
  const root = scratch('embed-layers');
  const photos = photoCopies(join(root, 'photos'), 3);

  it('--dtype f16 stores the float32 rows rounded to nearest-even half precision', () => {
    const f32 = join(root, 'f32');
    const f16 = join(root, 'f16');
    const first = runCli(['embed', join(root, 'photos'), '--model', MODEL, '--random-weights', '--out', f32, '--quiet']);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(runCli(['embed', join(root, 'photos'), '--model', MODEL, '--random-weights', '--out', f16, '--dtype', 'f16', '--quiet']).status).toBe(0);
    const full = parseNpy(readFileSync(join(f32, 'embeddings.npy')));
    const half = readFileSync(join(f16, 'embeddings.npy'));
    expect(half.subarray(0, 128).toString('latin1')).toMatch(/^\x93NUMPY\x01\x00v\x00\{'descr': '<f2', 'fortran_order': False, 'shape': \(3, 1280\), \} *\n$/);
    const expected = new Uint8Array(full.data.length * 2);
    encodeFloat16Into(full.data, expected, 0);
    expect(Buffer.compare(half.subarray(128), expected)).toBe(0);
    // And the halves decode close to the float32 rows (a half keeps 11 significant bits: 2^-11 relative).
    const decoded = new Float32Array(full.data.length);
    decodeFloat16Into(half, 128, decoded);
    for (let i = 0; i < decoded.length; i++) expect(Math.abs(decoded[i] - full.data[i])).toBeLessThanOrEqual(Math.abs(full.data[i]) * 2 ** -11 + 2 ** -24);
  });

  it('--layer stage-4 is the spatial mean of stage 4\'s output map (blocks.3.2, 80 channels on B0)', async () => {
    const dir = join(root, 'stage4');
    expect(runCli(['embed', join(root, 'photos'), '--model', MODEL, '--random-weights', '--out', dir, '--layer', 'stage-4', '--quiet']).status).toBe(0);
    const matrix = parseNpy(readFileSync(join(dir, 'embeddings.npy')));
    expect(matrix.shape).toEqual([3, 80]);
    expect(readManifest(dir)).toMatchObject({ rows: 3 });
    for (const [row, photo] of photos.entries()) {
      const { input, shape } = await net.preprocessImages([new Uint8Array(readFileSync(photo))]);
      let map: Float32Array | null = null;
      let mapShape: readonly number[] = [];
      await net.forward(input, shape, {
        onCheckpoint: (c, data, s) => {
          if (c.module === 'blocks.3.2') {
            map = data;
            mapShape = s;
          }
        },
      });
      const [, h, w, c] = mapShape;
      expect([h, w, c]).toEqual([14, 14, 80]);
      // A float64 mean as the independent value; the core sums 196 float32 values, each rounding
      // by at most 2^-24 of the running sum: 196 * 2^-24 of the largest magnitude bounds the gap.
      const largest = Math.max(...Array.from(map!, Math.abs));
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let p = 0; p < h * w; p++) sum += map![p * c + ch];
        expect(Math.abs(matrix.data[row * 80 + ch] - sum / (h * w))).toBeLessThanOrEqual(largest * 196 * 2 ** -24);
      }
    }
    const bad = runCli(['embed', join(root, 'photos'), '--model', MODEL, '--random-weights', '--out', join(root, 'bad'), '--layer', 'stage-9']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--layer must be pooled or stage-K with K from 1 to 7/);
  });
});

describe('interrupted runs resume to the bytes of an uninterrupted one; shards merge to them', () => {
  const root = scratch('embed-resume');
  const paths = photoCopies(join(root, 'photos'), 36);
  const list = writeList(join(root, 'list.txt'), [...paths].reverse()); // the list is sorted anyway
  const args = (out: string, batch = 2): string[] =>
    ['embed', '--list', list, '--model', MODEL, '--random-weights', '--out', out, '--batch', String(batch), '--checkpoint-seconds', '0', '--quiet'];
  const whole = join(root, 'whole');

  beforeAll(() => {
    const run = runCli(args(whole));
    expect(run.status).toBe(0);
  });

  it('the uninterrupted run indexes the list in sorted order', () => {
    expect(jsonl(join(whole, 'index.jsonl')).map((r) => r.path)).toEqual(paths);
  });

  it('SIGKILL mid-run leaves a valid partial result; running again finishes with identical bytes', async () => {
    const out = join(root, 'killed');
    const { child, done } = startCli(args(out));
    await waitForCheckpoint(out, 6);
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    const partial = readManifest(out)!;
    expect(partial.state).toBe('partial');
    expect(partial.processed).toBeLessThan(36);
    // The committed prefix of each file is the uninterrupted run's prefix.
    for (const [name, key] of [['embeddings.npy', 'embeddings'], ['index.jsonl', 'index']] as const) {
      const committed = partial.bytes[key];
      const start = name === 'embeddings.npy' ? 128 : 0; // the header differs: it counts the rows so far
      expect(Buffer.compare(readFileSync(join(out, name)).subarray(start, committed), readFileSync(join(whole, name)).subarray(start, committed)), name).toBe(0);
    }
    const resumed = runCli(args(out).filter((a) => a !== '--quiet'));
    expect(resumed.stderr).toMatch(new RegExp(`resuming .* at ${partial.processed}/36`));
    expect(resumed.status).toBe(0);
    expect(differingFiles(out, whole)).toEqual([]);
  });

  it('SIGTERM finishes the batch, checkpoints and exits 143; running again completes identically', async () => {
    const out = join(root, 'terminated');
    const { child, done } = startCli(args(out));
    await waitForCheckpoint(out, 4);
    child.kill('SIGTERM');
    const stopped = await done;
    expect(stopped.status).toBe(143);
    expect(stopped.stdout).toMatch(/stopped at \d+\/36 with a checkpoint/);
    const manifest = readManifest(out)!;
    expect(manifest.state).toBe('partial');
    // The checkpoint taken on the way out covers everything appended: the files end where it says.
    expect(statSync(join(out, 'index.jsonl')).size).toBe(manifest.bytes.index);
    expect(runCli(args(out)).status).toBe(0);
    expect(differingFiles(out, whole)).toEqual([]);
  });

  it('three shards run as separate processes (one on two threads, another batch size) merge into the single run\'s bytes', async () => {
    const shardDirs = [0, 1, 2].map((i) => join(root, `shard-${i}`));
    // Shard 1 runs on two threads with batches of 5: rows must not depend on either.
    const runs = shardDirs.map((dir, i) => startCli([...args(dir, i === 1 ? 5 : 2), '--shard', `${i}/3`, ...(i === 1 ? ['--threads', '2'] : [])]).done);
    for (const run of await Promise.all(runs)) expect(run.status).toBe(0);
    expect(shardDirs.map((d) => readManifest(d)!.rows)).toEqual([12, 12, 12]);
    const merged = join(root, 'merged');
    const merge = runCli(['merge', shardDirs[2], shardDirs[0], shardDirs[1], '--out', merged]); // any order
    expect(merge.stderr).toBe('');
    expect(merge.status).toBe(0);
    expect(merge.stdout).toMatch(/merged 3 shards .*: 36 rows, 0 skipped/);
    expect(differingFiles(merged, whole)).toEqual([]);

    // Refusals: a missing shard, a shard from another list, an unfinished shard.
    const missing = runCli(['merge', shardDirs[0], shardDirs[1], '--out', join(root, 'm2')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/each of the shards 0 … 2 exactly once/);
    const otherList = join(root, 'other-shard');
    expect(runCli(['embed', join(root, 'photos', '0000.png'), '--model', MODEL, '--random-weights', '--out', otherList, '--shard', '0/3', '--quiet']).status).toBe(0);
    const mixed = runCli(['merge', otherList, shardDirs[1], shardDirs[2], '--out', join(root, 'm3')]);
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toMatch(/come from different runs \(input list/);
    const unfinished = join(root, 'unfinished');
    cpSync(shardDirs[0], unfinished, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(unfinished, 'manifest.json'), 'utf8'));
    writeFileSync(join(unfinished, 'manifest.json'), JSON.stringify({ ...manifest, state: 'partial' }));
    const notDone = runCli(['merge', unfinished, shardDirs[1], shardDirs[2], '--out', join(root, 'm4')]);
    expect(notDone.status).toBe(2);
    expect(notDone.stderr).toMatch(/is not complete/);
  });
});
