/**
 * Figures of the dataset pipeline (`efficientnet embed`, `merge`), each from the built CLI run as
 * a child process:
 *
 * - `throughput`: images/s embedding 2,000 ordinary photos (bench/dataset-photos.ts) at
 *   --threads 2, the share of wall time the network waited for input, and the ratio to the
 *   network alone (the same model, threads and batch on ready tensors, timed in this process
 *   just before and after), which is what a perfect pipeline would reach.
 * - `rss`: peak resident memory after 1,000 and after 20,000 images of one run (a --list
 *   repeating the bundled photos); the pipeline's memory should not grow with the list.
 * - `merge`: time and bytes of merging three shards of the first 600 photos.
 *
 * Usage: node dist-bench/bench/dataset.js [throughput|rss|merge]... (default: all three).
 * A shared machine makes timings noisy: read the ratio, and the conditions printed with it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EfficientNet } from '../src/efficientnet.js';
import { createSyntheticWeights } from '../src/weights/synthetic.js';
import { median } from './support.js';
import { benchPhotos } from './dataset-photos.js';
import { parseSummary, watchCli } from './dataset-run.js';

const MODEL = 'tf_efficientnet_b0.ns_jft_in1k';
const WORK = process.env.DATASET_BENCH_DIR ?? join(tmpdir(), 'efficientnet-dataset-bench');
const PHOTO_COUNT = Number(process.env.DATASET_BENCH_PHOTOS ?? 2000);
const MERGE_PHOTOS = Number(process.env.DATASET_BENCH_MERGE_PHOTOS ?? 600);
const BATCH = 8;
const THREADS = 2;
const BUNDLED = ['chelsea.png', 'grace_hopper.jpg', 'panda.jpg'].map((name) => new URL(`../../data/images/${name}`, import.meta.url).pathname);

const conditions = (): string =>
  `${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;

/** Images/s of the network alone: median of `batches` timed forward passes on ready tensors. */
async function networkAlone(batches: number): Promise<number> {
  const net = await EfficientNet.create({ model: MODEL, weights: createSyntheticWeights({ variant: 'b0', seed: 0 }), threads: THREADS });
  const input = new Float32Array(BATCH * 3 * 224 * 224).map((_, i) => Math.sin(i)); // [8, 3, 224, 224]
  await net.forward(input, [BATCH, 3, 224, 224]); // plan and warm up
  const times: number[] = [];
  for (let i = 0; i < batches; i++) {
    const start = performance.now();
    await net.forward(input, [BATCH, 3, 224, 224]);
    times.push(performance.now() - start);
  }
  net.dispose();
  return BATCH / (median(times) / 1000);
}

async function throughput(): Promise<void> {
  const photos = join(WORK, 'photos');
  await benchPhotos(photos, PHOTO_COUNT);
  const out = join(WORK, 'throughput');
  rmSync(out, { recursive: true, force: true });
  const before = await networkAlone(12);
  const run = await watchCli(['embed', photos, '--model', MODEL, '--random-weights', '--out', out, '--threads', String(THREADS), '--batch', String(BATCH), '--quiet']);
  const after = await networkAlone(12);
  if (run.status !== 0) throw new Error(`embed exited with ${run.status}`);
  const summary = parseSummary(run.stdout);
  const alone = (before + after) / 2;
  console.log(`throughput (${conditions()}): ${summary.images} photos in ${summary.seconds.toFixed(1)} s = ${summary.rate.toFixed(1)} images/s; ` +
    `network waited for input ${summary.waitingPercent.toFixed(1)}% of the time; network alone ${alone.toFixed(1)} images/s ` +
    `(${before.toFixed(1)} before, ${after.toFixed(1)} after); pipeline / network alone = ${(summary.rate / alone).toFixed(2)}`);
}

async function rss(): Promise<void> {
  const count = 20_000;
  mkdirSync(WORK, { recursive: true });
  const list = join(WORK, 'rss-list.txt');
  writeFileSync(list, Array.from({ length: count }, (_, i) => BUNDLED[i % BUNDLED.length]).join('\n'));
  const out = join(WORK, 'rss');
  rmSync(out, { recursive: true, force: true });
  const run = await watchCli(['embed', '--list', list, '--model', MODEL, '--random-weights', '--out', out, '--threads', String(THREADS), '--batch', String(BATCH), '--checkpoint-seconds', '2', '--quiet'],
    { outDir: out, rssAt: [1000] });
  if (run.status !== 0) throw new Error(`embed exited with ${run.status}`);
  const at1000 = run.peakMiB.get(1000)!;
  const atEnd = run.peakMiB.get('end')!;
  console.log(`peak RSS (${conditions()}): ${at1000.toFixed(0)} MiB after 1,000 images, ${atEnd.toFixed(0)} MiB after ${count.toLocaleString('en')} ` +
    `(ratio ${(atEnd / at1000).toFixed(3)}); ${parseSummary(run.stdout).rate.toFixed(1)} images/s`);
}

async function merge(): Promise<void> {
  // The first MERGE_PHOTOS photos (embedding them is what costs; merging is a streaming copy).
  const photos = (await benchPhotos(join(WORK, 'photos'), PHOTO_COUNT)).slice(0, MERGE_PHOTOS);
  const list = join(WORK, 'merge-list.txt');
  writeFileSync(list, photos.join('\n'));
  const shards = [0, 1, 2].map((i) => join(WORK, `shard-${i}`));
  for (const [i, dir] of shards.entries()) {
    rmSync(dir, { recursive: true, force: true });
    const run = await watchCli(['embed', '--list', list, '--model', MODEL, '--random-weights', '--out', dir, '--threads', String(THREADS), '--batch', String(BATCH), '--shard', `${i}/3`, '--quiet']);
    if (run.status !== 0) throw new Error(`shard ${i} exited with ${run.status}`);
  }
  const out = join(WORK, 'merged');
  rmSync(out, { recursive: true, force: true });
  const run = await watchCli(['merge', ...shards, '--out', out]);
  if (run.status !== 0) throw new Error(`merge exited with ${run.status}`);
  const reported = /(\d+) rows, \d+ skipped, (\d+) bytes in ([\d.]+) s/.exec(run.stdout)!;
  console.log(`merge (${conditions()}): 3 shards, ${reported[1]} rows, ${reported[2]} bytes written in ${reported[3]} s (the command's own timing; ` +
    `${run.seconds.toFixed(2)} s with Node's start-up)`);
}

const modes = process.argv.slice(2);
for (const mode of modes.length > 0 ? modes : ['throughput', 'rss', 'merge']) {
  if (mode === 'throughput') await throughput();
  else if (mode === 'rss') await rss();
  else if (mode === 'merge') await merge();
  else throw new Error(`unknown mode "${mode}": expected throughput, rss or merge`);
}
