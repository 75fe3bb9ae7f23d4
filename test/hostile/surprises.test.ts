/**
 * No surprises: no code built from strings, no network access unless a URL is given, and a CLI
 * that writes only where it is told.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeNpy } from '../../src/cli/npy.js';
import { EfficientNet } from '../../src/efficientnet.js';
import { ConfigError } from '../../src/errors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every file under `dir` whose name passes `keep`, as paths. */
function walk(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : walk(path, keep);
    return keep(entry.name) ? [path] : [];
  });
}

/** eval, and the Function constructor with or without `new`: both compile strings into code. */
const CODE_FROM_STRINGS = /\beval\s*\(|\bnew\s+Function\s*\(|(?<![\w$.])Function\s*\(/g;

/** Each occurrence in a file, with a little context, for the report. */
function codeFromStrings(path: string): string[] {
  const source = readFileSync(path, 'utf8');
  return [...source.matchAll(CODE_FROM_STRINGS)].map((m) => `${relative(ROOT, path)}: …${source.slice(Math.max(0, m.index! - 60), m.index! + 60).replace(/\s+/g, ' ')}…`);
}

describe('no code built from strings', () => {
  it('in src/ and the built dist/', () => {
    const files = [...walk(join(ROOT, 'src'), (name) => name.endsWith('.ts')), ...walk(join(ROOT, 'dist'), (name) => name.endsWith('.js'))];
    expect(files.filter((f) => f.includes(`${join(ROOT, 'dist')}`)).length).toBeGreaterThan(0); // dist/ is built (npm run build)
    expect(files.flatMap(codeFromStrings)).toEqual([]);
  });

  it('in the image codecs\' glue, reported rather than enforced (third-party code)', () => {
    const require = createRequire(import.meta.url);
    const packages = ['@jsquash/jpeg', '@jsquash/png'].map((name) => dirname(require.resolve(`${name}/package.json`)));
    const files = packages.flatMap((dir) => walk(dir, (name) => name.endsWith('.js')));
    expect(files.length).toBeGreaterThan(0);
    const found = files.flatMap(codeFromStrings);
    console.log(`codec glue: ${files.length} files scanned, ${found.length} uses of eval or Function${found.map((f) => `\n  ${f}`).join('')}`);
  });
});

describe('no network access unless given a URL', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('creates, runs, classifies and embeds with fetch and sockets refusing', async () => {
    const fetch = vi.fn(() => {
      throw new Error('the test forbids network access');
    });
    vi.stubGlobal('fetch', fetch);
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    const photo = new Uint8Array(readFileSync(join(ROOT, 'data/images/chelsea.png')));
    const model = await EfficientNet.create({ model: 'tf_efficientnet_b0.ns_jft_in1k', weights: createSyntheticWeights({ variant: 'b0', seed: 51 }) });
    await model.forward(new Float32Array(3 * 32 * 32), [1, 3, 32, 32]);
    await model.classify(photo);
    await model.embed(new Uint8Array(readFileSync(join(ROOT, 'data/images/panda.jpg'))));
    await model.features(photo);
    expect(fetch).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
    // Given a URL for the core, it does fetch: the stub above was in the way of every real request.
    const fromUrl = EfficientNet.create({ variant: 'b0', weights: createSyntheticWeights({ variant: 'b0', seed: 51 }), wasm: new URL('https://example.invalid/efficientnet.wasm') });
    await expect(fromUrl).rejects.toThrow(ConfigError);
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});

/** Relative path -> size and modification time of every file under `dir`. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(walk(dir, () => true).map((path) => {
    const stat = statSync(path);
    return [relative(dir, path), `${stat.size}@${stat.mtimeMs}`];
  }));
}

describe('the CLI writes only where it is told', () => {
  it('classify, run and preprocess leave the working, home and temp directories as they were', () => {
    const inputs = mkdtempSync(join(tmpdir(), 'efficientnet-inputs-'));
    const [cwd, home, temp] = ['cwd', 'home', 'tmp'].map((name) => mkdtempSync(join(tmpdir(), `efficientnet-${name}-`)));
    writeFileSync(join(inputs, 'b0.safetensors'), createSyntheticWeights({ variant: 'b0', seed: 52 }));
    writeFileSync(join(inputs, 'x.npy'), encodeNpy(new Float32Array(3 * 16 * 16), [1, 3, 16, 16]));
    const before = snapshot(inputs);
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, HOME: home, TMPDIR: temp, TMP: temp, TEMP: temp } });
    const photo = join(ROOT, 'data/images/grace_hopper.jpg');
    const commands = [
      ['classify', photo, '--model', 'tf_efficientnet_b0.ns_jft_in1k', '--random-weights'],
      ['classify', join(ROOT, 'data/images'), '--model', 'tf_efficientnet_b0.ns_jft_in1k', '--weights', join(inputs, 'b0.safetensors'), '--json'],
      ['run', '--variant', 'b0', '--weights', join(inputs, 'b0.safetensors'), '--input', join(inputs, 'x.npy'), '--logits', 'out/logits.npy', '--features', 'features.npy'],
      ['preprocess', photo, '--model', 'tf_efficientnet_b0.ns_jft_in1k', '--out', 'pre.npy'],
    ];
    for (const args of commands) {
      const result = cli(args);
      expect(result.stderr, args[0]).not.toMatch(/efficientnet \w+:/); // no error line (progress output may use stderr)
      expect(result.status, args[0]).toBe(0);
    }
    expect(Object.keys(snapshot(cwd)).sort()).toEqual(['features.npy', join('out', 'logits.npy'), 'pre.npy']);
    expect(snapshot(home)).toEqual({});
    expect(snapshot(temp)).toEqual({});
    expect(snapshot(inputs)).toEqual(before);
  });
});
