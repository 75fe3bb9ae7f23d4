/**
 * `efficientnet serve` under sustained load, against `efficientnet bench` measured in the same
 * run on the same machine: B0, synthetic weights, two threads, loopback.
 *
 * - images/s, p50 and p99 latency and the share of each batch size at concurrency 1, 8 and 64,
 *   driven by autocannon (every request one image, the raw body);
 * - the peer: `efficientnet bench --variant b0 --batch 8 --threads 2` images/s, run before and
 *   after each server's load; a server's ratios use the mean of the two peers around it (the
 *   machine is shared and drifts);
 * - where the CPU goes at each level: cores used by the server process (all its threads) and by
 *   the load generator (this process), from their CPU time; the server's per image by thread
 *   (HTTP, decode worker, model, helpers) and the load generator's per request; the server's CPU milliseconds per
 *   image against the library's own (batch 8 on two threads, timed here in-process, every thread
 *   counted), and what one image's decoding and preprocessing costs (timed here on the same
 *   bytes). CPU time per image moves far less than images/s when neighbours take the cores;
 * - optionally a second server build (`--baseline PATH` to its `dist/cli/main.js`) run
 *   interleaved with this one, against the same peers;
 * - every measurement is repeated `--repeats` times per image; the summary gives medians;
 * - RSS of a fresh server after a tenth of `--rss-requests` requests and after all of them.
 *
 * Run: `npm run build:ts && npx tsc -p tsconfig.bench.json && ln -sfn ../build dist-bench/build &&
 * node dist-bench/bench/serve.bench.js [--seconds 15] [--repeats 3] [--rss-requests 10000]
 * [--image file.jpg ...] [--baseline other/dist/cli/main.js]`. bench/fixtures/noise-64x48.jpg
 * decodes in a fraction of a millisecond, which separates decoding's share from the rest.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findPreset } from '../src/arch/presets.js';
import { EfficientNet } from '../src/efficientnet.js';
import { createSyntheticWeights } from '../src/weights/synthetic.js';
import { decodeImage } from '../src/image/decode.js';
import { createPreprocessor } from '../src/image/preprocess.js';
import { preprocessRecipe } from '../src/image/recipe.js';
import { median } from './support.js';

const ROOT = new URL('../../', import.meta.url);
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    repeats: { type: 'string', default: '3' },
    'rss-requests': { type: 'string', default: '10000' },
    image: { type: 'string', multiple: true },
    baseline: { type: 'string' },
  },
});
const MAIN = fileURLToPath(new URL('dist/cli/main.js', ROOT));
const SERVERS: { readonly name: string; readonly main: string }[] = [
  { name: 'this build', main: MAIN },
  ...(args.baseline === undefined ? [] : [{ name: 'baseline', main: args.baseline }]),
];
const IMAGES = (args.image ?? [fileURLToPath(new URL('data/images/grace_hopper.jpg', ROOT))]).map((path) => ({ name: basename(path), bytes: readFileSync(path) }));
const MODEL = 'tf_efficientnet_b0.ns_jft_in1k';
const THREADS = 2;
const MAX_BATCH = 8;
const SECONDS = Number(args.seconds);
const REPEATS = Number(args.repeats);
const CONCURRENCY = [1, 8, 64];
/** Requests of the memory run (0: none); RSS is read after a tenth of them and after all. */
const RSS_REQUESTS = Number(args['rss-requests']);
/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface AutocannonResult {
  readonly '2xx': number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly duration: number;
  readonly latency: { readonly p50: number; readonly p99: number };
}

function peerImagesPerSecond(): number {
  const out = execFileSync(process.execPath, [MAIN, 'bench', '--variant', 'b0', '--batch', '8', '--threads', String(THREADS), '--runs', '20', '--json'], { encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').pop()!) as { imagesPerSecond: number }).imagesPerSecond;
}

interface Server {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<number | null>;
}

async function startServer(main: string): Promise<Server> {
  const child = spawn(process.execPath, [
    main, 'serve', '--model', MODEL, '--random-weights', '--port', '0', '--threads', String(THREADS), '--max-batch', String(MAX_BATCH), '--queue', '128',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const address = /listening on (http:\/\/\S+)/.exec(stdout);
      if (address && /^ready: /m.test(stdout)) resolve(address[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stdout}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { url, pid: child.pid!, stop: () => (child.kill('SIGTERM'), exited) };
}

interface AutocannonOptions {
  readonly url: string;
  readonly connections: number;
  readonly duration?: number;
  readonly amount?: number;
  readonly method: 'POST';
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly timeout: number;
}

// autocannon ships no typings; its promise API is used with the options above. (Its CLI's -i reads
// the body file as text, which corrupts a JPEG, so the bytes are passed here as a Buffer.)
const autocannon = createRequire(import.meta.url)('autocannon') as (options: AutocannonOptions) => Promise<AutocannonResult>;

function load(url: string, body: Buffer, connections: number, how: { seconds?: number; amount?: number }): Promise<AutocannonResult> {
  return autocannon({
    // autocannon refuses keys set to undefined, so only the limit given is passed.
    url: `${url}/v1/classify?topk=5`, connections, ...(how.amount === undefined ? { duration: how.seconds } : { amount: how.amount }), method: 'POST',
    headers: { 'content-type': 'image/jpeg' }, body, timeout: 60,
  });
}

/** Cumulative batch-size buckets `le=1 … le=MAX_BATCH` from /metrics. */
async function batchBuckets(url: string): Promise<number[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Array.from({ length: MAX_BATCH }, (_, i) => {
    const line = text.split('\n').find((l) => l.startsWith(`efficientnet_batch_size_bucket{le="${i + 1}"}`));
    return Number(line?.split(' ').pop() ?? 0);
  });
}

function residentMegabytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** CPU seconds (user + system) of each thread of a process, by thread id. */
function threadCpuSeconds(pid: number): Map<string, number> {
  return new Map(readdirSync(`/proc/${pid}/task`).map((tid) => {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ').pop()!.split(' ');
    return [tid, (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND] as const;
  }));
}

/**
 * A level's server CPU milliseconds per image by role. Threads carry no names here, so roles are
 * told apart by what they use: the main (HTTP) thread is the process id, the two busiest others
 * are the model's threads, the next the decode worker, and the rest V8's and libuv's helpers.
 */
function cpuByRole(before: Map<string, number>, after: Map<string, number>, pid: number, images: number): ThreadShares {
  const used = [...after].map(([tid, seconds]) => [tid, seconds - (before.get(tid) ?? 0)] as const);
  const perImage = (seconds: number): number => (1000 * seconds) / images;
  const others = used.filter(([tid]) => tid !== String(pid)).map(([, seconds]) => seconds).sort((a, b) => b - a);
  return {
    http: perImage(used.find(([tid]) => tid === String(pid))?.[1] ?? 0),
    model: perImage((others[0] ?? 0) + (others[1] ?? 0)),
    decode: perImage(others[2] ?? 0),
    helpers: perImage(others.slice(3).reduce((a, b) => a + b, 0)),
  };
}

interface ThreadShares {
  readonly http: number;
  readonly model: number;
  readonly decode: number;
  readonly helpers: number;
}

/** CPU seconds (user + system, every thread) a process has used. */
function processCpuSeconds(pid: number): number {
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Median CPU milliseconds to decode and preprocess `bytes` once, as the server's decode worker does. */
async function decodeCpuMs(bytes: Uint8Array): Promise<number> {
  const preprocessor = await createPreprocessor();
  const recipe = preprocessRecipe(findPreset(MODEL));
  const samples: number[] = [];
  for (let i = 0; i < 60; i++) {
    const start = process.cpuUsage();
    preprocessor.preprocess(await decodeImage(bytes), recipe);
    const used = process.cpuUsage(start);
    if (i >= 10) samples.push((used.user + used.system) / 1000); // the first ten warm the engine up
  }
  return median(samples);
}

/** CPU milliseconds per image (every thread of this process) of the library's forward at batch 8 on two threads. */
async function libraryCpuMs(): Promise<number> {
  const net = await EfficientNet.create({ variant: 'b0', weights: createSyntheticWeights({ variant: 'b0', seed: 1 }), threads: THREADS });
  const size = net.recipe.size;
  const input = new Float32Array(MAX_BATCH * 3 * size * size).map((_, i) => Math.sin(i * 0.001)); // [8, 3, size, size]
  const shape = [MAX_BATCH, 3, size, size];
  for (let i = 0; i < 3; i++) await net.forward(input, shape); // plans, tiers up
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    const start = process.cpuUsage();
    await net.forward(input, shape);
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / 1000 / MAX_BATCH);
  }
  net.dispose();
  return median(samples);
}

interface Level {
  readonly imagesPerSecond: number;
  readonly ratio: number;
  readonly p50: number;
  readonly p99: number;
  readonly shares: string;
  readonly refused: number;
  readonly failed: number;
  /** Cores busy in the server process and in the load generator. */
  readonly serverCores: number;
  /** The server's CPU milliseconds (all threads) per image answered. */
  readonly serverCpuMs: number;
  readonly clientCores: number;
  /** The load generator's CPU milliseconds per request answered. */
  readonly clientCpuMs: number;
  /** The server's CPU milliseconds per image by thread role. */
  readonly threads: ThreadShares;
  readonly loadAverage: number;
}

async function measureServer(main: string, body: Buffer): Promise<Omit<Level, 'ratio'>[]> {
  const server = await startServer(main);
  await load(server.url, body, 8, { seconds: 5 }); // warm-up: every batch size planned, the engine tiered up
  const levels: Omit<Level, 'ratio'>[] = [];
  for (const connections of CONCURRENCY) {
    const before = await batchBuckets(server.url);
    const serverCpu = processCpuSeconds(server.pid);
    const threadsBefore = threadCpuSeconds(server.pid);
    const clientCpu = process.cpuUsage();
    const result = await load(server.url, body, connections, { seconds: SECONDS });
    const client = process.cpuUsage(clientCpu);
    const serverCores = (processCpuSeconds(server.pid) - serverCpu) / result.duration;
    const threads = cpuByRole(threadsBefore, threadCpuSeconds(server.pid), server.pid, result['2xx']);
    const after = await batchBuckets(server.url);
    const perSize = after.map((count, i) => count - before[i] - (i === 0 ? 0 : after[i - 1] - before[i - 1]));
    const batches = perSize.reduce((a, b) => a + b, 0);
    const shares = perSize.map((n, i) => [i + 1, n / batches] as const).filter(([, share]) => share >= 0.01)
      .map(([size, share]) => `${size}: ${(100 * share).toFixed(0)}%`).join(', ');
    levels.push({
      imagesPerSecond: result['2xx'] / result.duration, p50: result.latency.p50, p99: result.latency.p99, shares,
      refused: result.non2xx, failed: result.errors + result.timeouts, serverCores, serverCpuMs: (1000 * serverCores * result.duration) / result['2xx'],
      clientCores: (client.user + client.system) / 1e6 / result.duration, clientCpuMs: (client.user + client.system) / 1000 / (result['2xx'] + result.non2xx),
      threads, loadAverage: loadavg()[0],
    });
  }
  await server.stop();
  return levels;
}

const stamp = (): string => `${new Date().toISOString().slice(0, 16)}Z, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
console.log(`${stamp()}; ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${SECONDS} s per level, ${REPEATS} repeats`);

/** [image][server][concurrency index] -> one Level per repeat. */
const results = IMAGES.map(() => SERVERS.map(() => CONCURRENCY.map((): Level[] => [])));
const peers: number[] = [];
// One image at a time: process.cpuUsage counts the whole process, so two timings must not overlap.
const decodeMs: number[][] = [];
for (const image of IMAGES) decodeMs.push([await decodeCpuMs(new Uint8Array(image.bytes))]);
const libraryMs = [await libraryCpuMs()];
for (let repeat = 0; repeat < REPEATS; repeat++) {
  for (const [i, image] of IMAGES.entries()) {
    let peerBefore = peerImagesPerSecond();
    peers.push(peerBefore);
    // Alternate which build goes first, so neither always follows the same peer.
    const order = repeat % 2 === 0 ? [...SERVERS.keys()] : [...SERVERS.keys()].reverse();
    for (const s of order) {
      const levels = await measureServer(SERVERS[s].main, image.bytes);
      const peerAfter = peerImagesPerSecond();
      peers.push(peerAfter);
      const peer = (peerBefore + peerAfter) / 2;
      levels.forEach((level, c) => results[i][s][c].push({ ...level, ratio: level.imagesPerSecond / peer }));
      console.log(`${image.name}, ${SERVERS[s].name}, repeat ${repeat + 1}: peer ${peerBefore.toFixed(1)} and ${peerAfter.toFixed(1)} images/s; ` +
        levels.map((l, c) => `c${CONCURRENCY[c]} ${l.imagesPerSecond.toFixed(1)} (${((100 * l.imagesPerSecond) / peer).toFixed(0)}%, server ${l.serverCores.toFixed(2)} + client ${l.clientCores.toFixed(2)} cores, load ${l.loadAverage.toFixed(1)})`).join('; '));
      peerBefore = peerAfter;
    }
  }
}

const cell = (levels: Level[], pick: (l: Level) => number, digits = 0): string => median(levels.map(pick)).toFixed(digits);
libraryMs.push(await libraryCpuMs());
for (const [i, image] of IMAGES.entries()) decodeMs[i].push(await decodeCpuMs(new Uint8Array(image.bytes)));
console.log(`\nmedians of ${REPEATS}; peer images/s ${Math.min(...peers).toFixed(1)} to ${Math.max(...peers).toFixed(1)}, median ${median(peers).toFixed(1)}; finished ${stamp()}`);
console.log('| image | server | concurrency | images/s | of bench | p50 ms | p99 ms | batch sizes (last repeat) | non-2xx / errors | server + client cores | server CPU ms per image | load average |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [i, image] of IMAGES.entries()) {
  for (const [s, server] of SERVERS.entries()) {
    for (const [c, connections] of CONCURRENCY.entries()) {
      const levels = results[i][s][c];
      const errors = `${levels.reduce((a, l) => a + l.refused, 0)} / ${levels.reduce((a, l) => a + l.failed, 0)}`;
      console.log(`| ${image.name} | ${server.name} | ${connections} | ${cell(levels, (l) => l.imagesPerSecond, 1)} | ${cell(levels, (l) => 100 * l.ratio)}% | ` +
        `${cell(levels, (l) => l.p50)} | ${cell(levels, (l) => l.p99)} | ${levels.at(-1)!.shares} | ${errors} | ` +
        `${cell(levels, (l) => l.serverCores, 2)} + ${cell(levels, (l) => l.clientCores, 2)} | ${cell(levels, (l) => l.serverCpuMs, 1)} | ${cell(levels, (l) => l.loadAverage, 1)} |`);
    }
  }
}
console.log('\n| image | server | concurrency | HTTP thread | decode worker | model threads | other threads | load generator ms per request |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [i, image] of IMAGES.entries()) {
  for (const [s, server] of SERVERS.entries()) {
    for (const [c, connections] of CONCURRENCY.entries()) {
      const levels = results[i][s][c];
      console.log(`| ${image.name} | ${server.name} | ${connections} | ${cell(levels, (l) => l.threads.http, 2)} | ${cell(levels, (l) => l.threads.decode, 2)} | ` +
        `${cell(levels, (l) => l.threads.model, 1)} | ${cell(levels, (l) => l.threads.helpers, 2)} | ${cell(levels, (l) => l.clientCpuMs, 2)} |`);
    }
  }
}
console.log(`library forward, batch 8 on ${THREADS} threads: ${libraryMs.map((ms) => ms.toFixed(1)).join(' and ')} CPU ms per image (before and after)`);
for (const [i, image] of IMAGES.entries()) {
  // At the bench's pace, decoding every image takes this share of the two cores: what is left for the network bounds the ratio.
  const share = (median(decodeMs[i]) / 1000) * median(peers) / THREADS;
  console.log(`${image.name}: ${image.bytes.length} bytes, decode + preprocess ${decodeMs[i].map((ms) => ms.toFixed(2)).join(' and ')} ms CPU per image (before and after) = ${(100 * share).toFixed(1)}% of ${THREADS} cores at the median peer's pace`);
}

if (RSS_REQUESTS > 0) {
  const fresh = await startServer(MAIN);
  await load(fresh.url, IMAGES[0].bytes, 8, { amount: RSS_REQUESTS / 10 });
  const rssTenth = residentMegabytes(fresh.pid);
  await load(fresh.url, IMAGES[0].bytes, 8, { amount: (RSS_REQUESTS * 9) / 10 });
  const rssAll = residentMegabytes(fresh.pid);
  await fresh.stop();
  console.log(`RSS (${IMAGES[0].name}, concurrency 8) after ${RSS_REQUESTS / 10} requests ${rssTenth.toFixed(0)} MB, after ${RSS_REQUESTS} ${rssAll.toFixed(0)} MB (${((100 * rssAll) / rssTenth).toFixed(0)}%); ${stamp()}`);
}
