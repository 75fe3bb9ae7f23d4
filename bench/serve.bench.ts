/**
 * `efficientnet serve` under sustained load, against `efficientnet bench` measured in the same
 * run on the same machine: B0, synthetic weights, two threads, loopback.
 *
 * - images/s, p50 and p99 latency and the share of each batch size at concurrency 1, 8 and 64,
 *   driven by autocannon (a real 61 KB photo as the raw body, every request one image);
 * - the peer: `efficientnet bench --variant b0 --batch 8 --threads 2` images/s, run before and
 *   after the server load; the ratio uses their mean (the machine is shared and drifts);
 * - RSS of a fresh server after 1,000 and after 10,000 requests.
 *
 * Run: `npm run build:ts && npx tsc -p tsconfig.bench.json && node dist-bench/bench/serve.bench.js [seconds per level] [requests of the memory run] [image.jpg]`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../../', import.meta.url);
const MAIN = fileURLToPath(new URL('dist/cli/main.js', ROOT));
/** The request body: a real photo by default, or the JPEG named by the third argument (bench/fixtures/noise-64x48.jpg decodes in a fraction of a millisecond, which separates decoding's share from the rest). */
const PHOTO = process.argv[4] === undefined ? readFileSync(new URL('data/images/grace_hopper.jpg', ROOT)) : readFileSync(process.argv[4]);
const MODEL = 'tf_efficientnet_b0.ns_jft_in1k';
const THREADS = 2;
const MAX_BATCH = 8;
const SECONDS = Number(process.argv[2] ?? 20);
const CONCURRENCY = [1, 8, 64];
/** Requests of the memory run; RSS is read after a tenth of them and after all. */
const RSS_REQUESTS = Number(process.argv[3] ?? 10_000);

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

async function startServer(): Promise<Server> {
  const child = spawn(process.execPath, [
    MAIN, 'serve', '--model', MODEL, '--random-weights', '--port', '0', '--threads', String(THREADS), '--max-batch', String(MAX_BATCH), '--queue', '128',
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

function load(url: string, connections: number, how: { seconds?: number; amount?: number }): Promise<AutocannonResult> {
  return autocannon({
    // autocannon refuses keys set to undefined, so only the limit given is passed.
    url: `${url}/v1/classify?topk=5`, connections, ...(how.amount === undefined ? { duration: how.seconds } : { amount: how.amount }), method: 'POST',
    headers: { 'content-type': 'image/jpeg' }, body: PHOTO, timeout: 60,
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

const peerBefore = peerImagesPerSecond();
const server = await startServer();
await load(server.url, 8, { seconds: 5 }); // warm-up: every batch size planned, the engine tiered up
const rows: string[] = [];
for (const connections of CONCURRENCY) {
  const before = await batchBuckets(server.url);
  const result = await load(server.url, connections, { seconds: SECONDS });
  const after = await batchBuckets(server.url);
  const perSize = after.map((count, i) => count - before[i] - (i === 0 ? 0 : after[i - 1] - before[i - 1]));
  const batches = perSize.reduce((a, b) => a + b, 0);
  const shares = perSize.map((n, i) => [i + 1, n / batches] as const).filter(([, share]) => share >= 0.01)
    .map(([size, share]) => `${size}: ${(100 * share).toFixed(0)}%`).join(', ');
  const imagesPerSecond = result['2xx'] / result.duration;
  rows.push(`| ${connections} | ${imagesPerSecond.toFixed(1)} | RATIO${imagesPerSecond} | ${result.latency.p50} | ${result.latency.p99} | ${shares} | ${result.non2xx} / ${result.errors + result.timeouts} |`);
}
await server.stop();
const peerAfter = peerImagesPerSecond();
const peer = (peerBefore + peerAfter) / 2;

const fresh = await startServer();
await load(fresh.url, 8, { amount: RSS_REQUESTS / 10 });
const rssTenth = residentMegabytes(fresh.pid);
await load(fresh.url, 8, { amount: (RSS_REQUESTS * 9) / 10 });
const rssAll = residentMegabytes(fresh.pid);
await fresh.stop();

console.log(`${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${SECONDS} s per level`);
console.log(`peer: efficientnet bench --variant b0 --batch 8 --threads 2: ${peerBefore.toFixed(1)} images/s before, ${peerAfter.toFixed(1)} after`);
console.log('| concurrency | images/s | of bench | p50 ms | p99 ms | batch sizes | non-2xx / errors |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row.replace(/RATIO([\d.]+)/, (_, v: string) => `${((100 * Number(v)) / peer).toFixed(0)}%`));
console.log(`RSS after ${RSS_REQUESTS / 10} requests ${rssTenth.toFixed(0)} MB, after ${RSS_REQUESTS} ${rssAll.toFixed(0)} MB (${((100 * rssAll) / rssTenth).toFixed(0)}%)`);
