/**
 * The package as a user gets it: `npm pack`, installed from the tarball into a fresh project
 * (offline-friendly: its dependencies come from the npm cache), then used from fresh Node
 * processes through its exports map and its `efficientnet` bin. Needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstLine } from '../support/cli.js';
import { consumerProject, packPackage, run, type PackedPackage } from '../support/consumer.js';

let packed: PackedPackage;
let project: string;
let installed: string;
let packedFiles: readonly string[] = [];

/** Writes `source` as an ES module in the consumer project, runs it in a fresh Node, returns its JSON output. */
function runInConsumer(name: string, source: string): unknown {
  writeFileSync(join(project, name), source);
  return JSON.parse(run(process.execPath, [name], project).stdout);
}

beforeAll(() => {
  packed = packPackage();
  packedFiles = packed.files;
  project = consumerProject(packed, join(packed.workdir, 'consumer'), {}, false);
  installed = join(project, 'node_modules', 'efficientnet-wasm');
});

afterAll(() => {
  packed?.remove();
});

describe('the packed package', () => {
  it('ships the compiled library, the core, the data and the demo, and no sources or tests', () => {
    for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'build/efficientnet.wasm',
      'build/efficientnet-threads.wasm', 'build/efficientnet-relaxed.wasm', 'build/efficientnet-relaxed-threads.wasm',
      'data/images/panda.jpg', 'demo/index.html', 'demo/demo.js', 'demo/demo.css']) {
      expect(packedFiles).toContain(file);
    }
    expect(packedFiles.filter((f) => /^(src|test|assembly|bench|scripts)\//.test(f) || f.endsWith('.wat'))).toEqual([]);
  });

  it('ships no source map and no reference to one, since the sources are not shipped', () => {
    expect(packedFiles.filter((f) => f.endsWith('.map'))).toEqual([]);
    const referencing = packedFiles.filter((f) => /\.(js|d\.ts)$/.test(f) && readFileSync(join(installed, f), 'utf8').includes('sourceMappingURL'));
    expect(referencing).toEqual([]);
  });

  it('ships every file the README links or shows with a relative path, and the codecs\' .wasm', () => {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    const relative = [...readme.matchAll(/\]\(((?!https?:|#)[^)#\s]+)\)/g)].map((m) => m[1]);
    expect(relative).toEqual(expect.arrayContaining(['docs/walkthrough.md', 'docs/scaling.svg']));
    for (const path of relative) expect(packedFiles, path).toContain(path);
    for (const codec of ['build/codecs/mozjpeg_dec.wasm', 'build/codecs/squoosh_png_bg.wasm']) expect(packedFiles).toContain(codec);
  });

  it('names its repository, homepage and keywords', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(manifest.repository.url).toMatch(/^git\+https:\/\/github\.com\/[\w-]+\/efficientnet-wasm\.git$/);
    expect(manifest.homepage).toMatch(/^https:\/\/github\.com\/[\w-]+\/efficientnet-wasm#readme$/);
    expect(manifest.keywords).toEqual(expect.arrayContaining(['efficientnet', 'webassembly']));
  });

  it('maps its one Node-specific file to the browser one for bundlers, both shipped with the same exports', async () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    const entries = Object.entries(manifest.browser as Record<string, string>);
    expect(entries).toEqual([['./dist/runtime/platform/detect.js', './dist/runtime/platform/browser.js']]);
    const [[nodeFile, browserFile]] = entries;
    const nodeExports = Object.keys(await import(join(installed, nodeFile)));
    expect(Object.keys(await import(join(installed, browserFile)))).toEqual(nodeExports);
    expect(readFileSync(join(installed, browserFile), 'utf8')).not.toMatch(/node:/);
  });

  it('declares types, node and browser conditions, each pointing at a shipped file', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    const root = manifest.exports['.'];
    expect(Object.keys(root)).toEqual(['types', 'node', 'browser', 'default']);
    for (const target of Object.values(root) as string[]) expect(existsSync(join(installed, target))).toBe(true);
    for (const core of ['./efficientnet.wasm', './efficientnet-threads.wasm', './efficientnet-relaxed.wasm', './efficientnet-relaxed-threads.wasm',
      './codecs/mozjpeg_dec.wasm', './codecs/squoosh_png_bg.wasm', './worker.js']) {
      expect(existsSync(join(installed, manifest.exports[core])), core).toBe(true);
    }
    expect(existsSync(join(installed, manifest.bin.efficientnet))).toBe(true);
  });

  it('imports in a fresh Node process: synthetic weights, forward, and classify a bundled photo', () => {
    const result = runInConsumer('use.mjs', `
      import { readFile } from 'node:fs/promises';
      import { EfficientNet, createSyntheticWeights } from 'efficientnet-wasm';
      const weights = createSyntheticWeights({ variant: 'b0', seed: 3 });
      const net = await EfficientNet.create({ model: 'tf_efficientnet_b0.ns_jft_in1k', weights });
      const { logits, features } = await net.forward(new Float32Array(2 * 3 * 64 * 80).fill(0.5), [2, 3, 64, 80]);
      const photo = await readFile(new URL('data/images/panda.jpg', import.meta.resolve('efficientnet-wasm/package.json')));
      const top = await net.classify(photo, { topk: 3 });
      console.log(JSON.stringify({
        entry: import.meta.resolve('efficientnet-wasm'), numClasses: net.numClasses, featureChannels: net.featureChannels,
        logits: logits.length, features: features.length, top,
      }));
    `) as { entry: string; numClasses: number; featureChannels: number; logits: number; features: number; top: { index: number; label: string; probability: number }[] };
    expect(fileURLToPath(result.entry)).toBe(join(installed, 'dist', 'index.js'));
    expect(result.numClasses).toBe(1000);
    expect(result.featureChannels).toBe(1280); // B0's head width
    expect(result.logits).toBe(2 * result.numClasses);
    expect(result.features).toBe(2 * result.featureChannels);
    expect(result.top).toHaveLength(3);
    for (const p of result.top) {
      expect(Number.isInteger(p.index) && p.index >= 0 && p.index < 1000).toBe(true);
      expect(p.label.length).toBeGreaterThan(0);
      expect(p.probability > 0 && p.probability <= 1).toBe(true);
    }
    const probabilities = result.top.map((p) => p.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
  });

  it('takes the core from the `wasm` option as bytes, a URL or a path, with the same logits bits', () => {
    const result = runInConsumer('wasm-option.mjs', `
      import { createHash } from 'node:crypto';
      import { readFile } from 'node:fs/promises';
      import { fileURLToPath } from 'node:url';
      import { EfficientNet, createSyntheticWeights } from 'efficientnet-wasm';
      const weights = createSyntheticWeights({ variant: 'b0', seed: 4 });
      const url = new URL(import.meta.resolve('efficientnet-wasm/efficientnet.wasm'));
      const input = new Float32Array(3 * 48 * 48).map((_, i) => (i % 7) / 7 - 0.5);
      const logitsHash = async (wasm) => {
        const net = await EfficientNet.create({ variant: 'b0', weights, wasm });
        const { logits } = await net.forward(input, [1, 3, 48, 48]);
        return createHash('sha256').update(new Uint8Array(logits.buffer)).digest('hex');
      };
      const missing = await EfficientNet.create({ variant: 'b0', weights, wasm: new URL('./missing.wasm', url) }).catch((e) => e);
      console.log(JSON.stringify({
        packaged: await logitsHash(undefined),
        bytes: await logitsHash(await readFile(url)),
        url: await logitsHash(url),
        path: await logitsHash(fileURLToPath(url)),
        missing: { name: missing.name, message: missing.message },
      }));
    `) as Record<'packaged' | 'bytes' | 'url' | 'path', string> & { missing: { name: string; message: string } };
    expect(result.packaged).toMatch(/^[0-9a-f]{64}$/);
    expect(result.bytes).toBe(result.packaged);
    expect(result.url).toBe(result.packaged);
    expect(result.path).toBe(result.packaged);
    expect(result.missing.name).toBe('ConfigError');
    expect(result.missing.message).toMatch(/could not read the WebAssembly core from .*missing\.wasm/);
  });

  it('runs the efficientnet bin from the installed package', () => {
    const photo = join(installed, 'data', 'images', 'grace_hopper.jpg');
    const result = run(join(project, 'node_modules', '.bin', 'efficientnet'),
      ['classify', photo, '--model', 'tf_efficientnet_b0.ns_jft_in1k', '--random-weights', '--topk', '2', '--json'], project);
    const [entry] = JSON.parse(result.stdout) as { file: string; top: unknown[]; syntheticWeights: boolean }[];
    expect(entry.file).toBe(photo);
    expect(entry.top).toHaveLength(2);
    expect(entry.syntheticWeights).toBe(true);
  });

  it('serves the demo from the installed package, with the codecs npm hoisted beside it', async () => {
    const child = spawn(join(project, 'node_modules', '.bin', 'efficientnet'), ['demo', '--port', '0'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await firstLine(child);
      const base = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
      expect(existsSync(join(project, 'node_modules', '@jsquash', 'jpeg', 'decode.js'))).toBe(true); // hoisted, not nested
      for (const path of ['demo/', 'dist/index.js', 'build/efficientnet.wasm', 'node_modules/@jsquash/jpeg/decode.js', 'node_modules/@jsquash/png/decode.js']) {
        const response = await fetch(new URL(path, base));
        expect(response.status, path).toBe(200);
      }
    } finally {
      child.kill('SIGTERM');
    }
  });
});
