/**
 * webpack 5 with its default configuration (no config file: `src/index.js` in, `dist/main.js`
 * out, production mode) on a consumer app installed from the packed tarball: the page classifies
 * the photo in Chromium with the same top-1 index and probability as Node, on one thread and on
 * the worker pool. webpack finds the `.wasm` files and the worker through the package's own
 * `new URL(..., import.meta.url)` and `new Worker(...)`. Needs `npm run build` first.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from '../support/browser.js';
import { appSource, consumerProject, copyPhoto, INDEX_HTML, nodeAnswer, packPackage, expectNodeAnswerInBrowser, REPO, run, serveStatic, type PackedPackage } from '../support/consumer.js';

let packed: PackedPackage;
let project: string;
let browser: Browser;

beforeAll(async () => {
  packed = packPackage();
  project = consumerProject(packed, join(packed.workdir, 'webpack-app'), { 'src/index.js': appSource() });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  packed?.remove();
});

describe('a webpack 5 app (default config) using the installed package', () => {
  it('builds, and the page gives Node\'s answer on one thread and on two worker threads', async () => {
    // `npx webpack` with no config file and no flags; the bundler comes from this repository.
    const built = run(join(REPO, 'node_modules', '.bin', 'webpack'), [], project);
    // webpack's only complaint is its own default one, that no `mode` was chosen: nothing about the package.
    expect(built.stdout.match(/^(WARNING|ERROR) in .*$/gm)).toEqual(['WARNING in configuration']);
    const out = join(project, 'dist');
    writeFileSync(join(out, 'index.html'), INDEX_HTML('main.js'));
    copyPhoto(project, out);
    const expected = await nodeAnswer();
    const server = await serveStatic(out);
    try {
      for (const threads of [1, 2]) await expectNodeAnswerInBrowser(browser, server.url, threads, expected);
    } finally {
      await server.close();
    }
  }, 300_000);
});
