/**
 * Vite with its default configuration (no config file), dev server and production build, on a
 * consumer app installed from the packed tarball: the page classifies the photo in Chromium with
 * the same top-1 index and probability as Node, on one thread and on the worker pool. Nothing in
 * the app tells Vite about the package: the core's and the codecs' `.wasm` and the worker script
 * are found through the package's own `new URL(..., import.meta.url)` and `new Worker(...)`.
 * Needs `npm run build` first.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, createLogger, createServer, type Logger, type ViteDevServer } from 'vite';
import { launchChromium, type Browser } from '../support/browser.js';
import {
  appSource, consumerProject, copyPhoto, INDEX_HTML, ISOLATION_HEADERS, nodeAnswer, packPackage, expectNodeAnswerInBrowser, serveStatic,
  type PackedPackage,
} from '../support/consumer.js';

let packed: PackedPackage;
let project: string;
let browser: Browser;
let expected: { index: number; probability: number };

beforeAll(async () => {
  packed = packPackage();
  project = consumerProject(packed, join(packed.workdir, 'vite-app'), { 'index.html': INDEX_HTML('/main.js'), 'main.js': appSource() });
  copyPhoto(project, join(project, 'public'));
  expected = await nodeAnswer();
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  packed?.remove();
});

describe('a Vite app (default config) using the installed package', () => {
  it('builds, and the built page gives Node\'s answer on one thread and on two worker threads', async () => {
    // Vite's defaults: the default worker format (iife), target and asset handling.
    await build({ root: project, configFile: false, logLevel: 'error' });
    const server = await serveStatic(join(project, 'dist'));
    try {
      for (const threads of [1, 2]) await expectNodeAnswerInBrowser(browser, server.url, threads, expected);
    } finally {
      await server.close();
    }
  }, 300_000);

  it('serves in dev mode: default config on one thread; with the isolation headers, on two threads', async () => {
    // Everything Vite warns about, kept: a source map pointing at missing files was one such warning.
    const warnings: string[] = [];
    const base = createLogger('warn');
    const logger: Logger = { ...base, warn: (message) => warnings.push(message), warnOnce: (message) => warnings.push(message), error: (message) => warnings.push(message) };
    for (const [threads, headers] of [[1, undefined], [2, ISOLATION_HEADERS]] as const) {
      let server: ViteDevServer | undefined;
      try {
        // The second server adds only the two headers the README's Vite section shows for threads.
        server = await createServer({ root: project, configFile: false, customLogger: logger, server: { port: 0, host: '127.0.0.1', headers } });
        await server.listen();
        const base = server.resolvedUrls!.local[0];
        await expectNodeAnswerInBrowser(browser, base, threads, expected);
      } finally {
        await server?.close();
      }
    }
    expect(warnings).toEqual([]);
  }, 300_000);
});
