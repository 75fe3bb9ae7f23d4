/**
 * esbuild (`--bundle --format=esm --platform=browser` plus only the flags the README's Bundlers
 * section states) on a consumer app installed from the packed tarball. esbuild does not rewrite
 * `new URL(..., import.meta.url)` or `new Worker(...)`, so the README's two extra steps are done
 * here exactly as written: bundle the package's worker as a second entry named `worker.js`, and
 * copy the `.wasm` files next to the bundle, which the app locates with the `wasm`, `threadsWasm`
 * and `codecWasm` options. The page then classifies in Chromium with Node's top-1 index and
 * probability, on one thread and on the worker pool. Needs `npm run build` first.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from '../support/browser.js';
import { appSource, consumerProject, copyPhoto, INDEX_HTML, nodeAnswer, packPackage, expectNodeAnswerInBrowser, REPO, run, serveStatic, type PackedPackage } from '../support/consumer.js';

/** The README's esbuild commands, as a user types them in the project's directory. */
const README_STEPS = /```sh\n[ \t]*(npx esbuild [^\n]+)\n[ \t]*(cp [^\n]+)\n[ \t]*```/;

/** The location options of the README's esbuild example (the `asset(...)` lines). */
const LOCATION_OPTIONS = `wasm: asset('efficientnet.wasm'), threadsWasm: asset('efficientnet-threads.wasm'),
  codecWasm: { jpeg: asset('mozjpeg_dec.wasm'), png: asset('squoosh_png_bg.wasm') }`;

let packed: PackedPackage;
let project: string;
let browser: Browser;

beforeAll(async () => {
  packed = packPackage();
  const app = appSource(LOCATION_OPTIONS).replace('async function main', 'const asset = (name) => new URL(name, import.meta.url);\n\nasync function main');
  project = consumerProject(packed, join(packed.workdir, 'esbuild-app'), { 'app.js': app });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  packed?.remove();
});

describe('an esbuild app using the installed package', () => {
  it('the README states the steps, and shows the location options this app passes', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(readme).toMatch(README_STEPS);
    for (const option of LOCATION_OPTIONS.split(/,\s*(?=\w+:)/)) expect(readme).toContain(option.trim());
  });

  it('builds with the README\'s commands, and the page gives Node\'s answer on one thread and on two worker threads', async () => {
    const [, bundle, copy] = README_STEPS.exec(readFileSync(join(REPO, 'README.md'), 'utf8'))!;
    // `npx esbuild` resolves to this repository's esbuild; the shell expands the copy's globs.
    const env = { ...process.env, PATH: `${join(REPO, 'node_modules', '.bin')}:${process.env.PATH}` };
    const built = run('sh', ['-c', `${bundle.replace(/^npx /, '')} --log-level=warning && ${copy}`], project, env);
    expect(built.stderr).toBe(''); // not even a warning
    const out = join(project, 'public');
    writeFileSync(join(out, 'index.html'), INDEX_HTML('app.js'));
    copyPhoto(project, out);
    const bundled = readFileSync(join(out, 'app.js'), 'utf8');
    expect(bundled).not.toMatch(/["']node:/); // no Node built-in reached the browser bundle
    const expected = await nodeAnswer();
    const server = await serveStatic(out);
    try {
      for (const threads of [1, 2]) await expectNodeAnswerInBrowser(browser, server.url, threads, expected);
    } finally {
      await server.close();
    }
  }, 300_000);
});
