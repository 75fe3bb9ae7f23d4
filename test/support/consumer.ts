/**
 * What the tests of the installed package share: the package packed once per test run and installed
 * from the tarball into a fresh consumer project (bundlers themselves come from this repository's
 * node_modules), a static server for the built page, the page driven in Chromium, and the answer
 * Node gives for the same photo and weights. Needs `npm run build` first.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Browser } from './browser.js';
import { EfficientNet } from '../../src/efficientnet.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The photo every consumer app classifies, and the weights it makes (the app builds the same ones). */
export const PHOTO = 'panda.jpg';
export const MODEL = 'tf_efficientnet_b0.ns_jft_in1k';
export const SEED = 7;

/** Runs a command to completion; a non-zero exit throws with its output. */
export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

export interface PackedPackage {
  /** A fresh temporary directory for this test file's consumer projects. */
  readonly workdir: string;
  readonly tarball: string;
  readonly files: readonly string[];
  /** Removes `workdir` (the shared tarball stays for the run's other test files). */
  remove(): void;
}

interface PackResult {
  readonly tarball: string;
  readonly files: readonly string[];
}

/** The shared tarball's directory: this prefix and the process id of the test run. */
const PACK_PREFIX = 'efficientnet-pack-';
const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
};

/**
 * `npm pack` of this repository, once per test run: the first test file to ask packs into
 * `<tmp>/efficientnet-pack-<run>/` (claimed by creating the directory, which only one process can),
 * the others wait for its `pack.json`. Directories of runs that have ended are removed.
 */
function packOnce(): PackResult {
  // Forked test files share the Vitest process as parent; files on worker threads run inside it.
  const testRun = isMainThread ? process.ppid : process.pid;
  const shared = join(tmpdir(), `${PACK_PREFIX}${testRun}`);
  const result = join(shared, 'pack.json');
  let claimed = false;
  try {
    mkdirSync(shared);
    claimed = true;
  } catch {
    // Another test file of this run packs; wait below.
  }
  if (claimed) {
    for (const entry of readdirSync(tmpdir())) {
      const pid = Number(entry.slice(PACK_PREFIX.length));
      if (entry.startsWith(PACK_PREFIX) && pid !== testRun && Number.isInteger(pid) && !isRunning(pid)) {
        rmSync(join(tmpdir(), entry), { recursive: true, force: true });
      }
    }
    try {
      const pack = run(NPM, ['pack', '--json', '--pack-destination', shared], REPO);
      const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
      writeFileSync(`${result}.partial`, JSON.stringify({ tarball: join(shared, filename), files: files.map((f) => f.path) }));
      renameSync(`${result}.partial`, result); // appears whole or not at all
    } catch (error) {
      rmSync(shared, { recursive: true, force: true }); // let a later file try again
      throw error;
    }
  }
  const deadline = Date.now() + 120_000;
  while (!existsSync(result)) {
    if (!existsSync(shared)) return packOnce(); // the packing file failed and cleared its claim
    if (Date.now() > deadline) throw new Error(`no packed tarball in ${shared} after 120 s`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200); // a synchronous 200 ms sleep
  }
  return JSON.parse(readFileSync(result, 'utf8')) as PackResult;
}

/** The packed package (packed once per test run) and a fresh temporary directory for consumers. */
export function packPackage(): PackedPackage {
  const { tarball, files } = packOnce();
  const workdir = mkdtempSync(join(tmpdir(), 'efficientnet-consumer-'));
  return { workdir, tarball, files, remove: () => rmSync(workdir, { recursive: true, force: true }) };
}

/**
 * A fresh project at `dir` with the packed package installed (from npm's cache where it can) and
 * `files` written into it. `omitOptional` installs as `npm install --omit=optional` does.
 */
export function consumerProject(packed: PackedPackage, dir: string, files: Record<string, string>, omitOptional = true): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const flags = ['--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...(omitOptional ? ['--omit=optional'] : [])];
  run(NPM, ['install', packed.tarball, ...flags], dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Copies the bundled photo from the installed package into `dir` (the page fetches it from there). */
export function copyPhoto(project: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(project, 'node_modules', 'efficientnet-wasm', 'data', 'images', PHOTO), join(dir, PHOTO));
}

/**
 * The consumer app: classifies the photo with synthetic weights on `?threads=N` threads and puts
 * the answer (or the error) on `window.result`. `createOptions` is JavaScript source for extra
 * options of `EfficientNet.create` (the esbuild app passes the `.wasm` locations there).
 */
export function appSource(createOptions = ''): string {
  return `import { EfficientNet, createSyntheticWeights } from 'efficientnet-wasm';

async function main() {
  const threads = Number(new URLSearchParams(location.search).get('threads') ?? '1');
  const weights = createSyntheticWeights({ variant: 'b0', seed: ${SEED} });
  const net = await EfficientNet.create({ model: '${MODEL}', weights, threads, ${createOptions} });
  const photo = new Uint8Array(await (await fetch('./${PHOTO}')).arrayBuffer());
  const [top] = await net.classify(photo, { topk: 1 });
  const result = { threads: net.threads, reason: net.threading.reason ?? null, index: top.index, probability: top.probability };
  net.dispose();
  return result;
}

main().then((result) => { window.result = { ok: true, ...result }; }, (error) => { window.result = { ok: false, error: String(error && error.stack || error) }; });
`;
}

export const INDEX_HTML = (script: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>consumer</title><link rel="icon" href="data:,"><script type="module" src="${script}"></script></head><body></body></html>\n`;

/** What Node answers for the app's photo and weights: the reference the pages must match exactly. */
export async function nodeAnswer(): Promise<{ index: number; probability: number }> {
  const weights = createSyntheticWeights({ variant: 'b0', seed: SEED });
  const net = await EfficientNet.create({ model: MODEL, weights });
  try {
    const [top] = await net.classify(readFileSync(join(REPO, 'data', 'images', PHOTO)), { topk: 1 });
    return { index: top.index, probability: top.probability };
  } finally {
    net.dispose();
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.jpg': 'image/jpeg', '.png': 'image/png', '.json': 'application/json', '.css': 'text/css',
};

/** The headers that make a page cross-origin isolated, so it may share memory with workers. */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** Serves `root` as static files on 127.0.0.1 with the isolation headers; resolves to its base URL. */
export async function serveStatic(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(root, path);
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      response.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', ...ISOLATION_HEADERS });
      response.end(body);
    } catch {
      response.writeHead(404, ISOLATION_HEADERS).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no server address');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface PageAnswer {
  readonly ok: boolean;
  readonly error?: string;
  readonly threads: number;
  readonly reason: string | null;
  readonly index: number;
  readonly probability: number;
}

/** Opens `url` and waits for the app's answer. */
export async function pageAnswer(page: Page, url: string): Promise<PageAnswer> {
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 120_000 });
  return page.evaluate(() => (window as unknown as { result: PageAnswer }).result);
}

/**
 * Opens the consumer app at `base` asking for `threads` threads and checks it ran on that many and
 * gave Node's answer exactly (the core is bit-identical across engines), with no page error.
 */
export async function expectNodeAnswerInBrowser(
  browser: Browser, base: string, threads: number, expected: { index: number; probability: number },
): Promise<void> {
  const { page, errors } = await browser.newPage();
  let answer: PageAnswer;
  try {
    answer = await pageAnswer(page, `${base}?threads=${threads}`);
  } finally {
    await page.close();
  }
  expect(answer.error).toBeUndefined();
  expect(answer.threads, answer.reason ?? '').toBe(threads);
  expect({ index: answer.index, probability: answer.probability }).toEqual(expected);
  expect(errors).toEqual([]);
}
