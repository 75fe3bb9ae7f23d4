/**
 * `npm install --omit=optional efficientnet-wasm`: the library and the core commands with only
 * the image decoders, in at most 12 MB of node_modules. Dependencies that serve one command
 * (onnx-proto for export-onnx; the HTTP server and metrics client; the HDF5 reader) are optional
 * and loaded on demand, and a command whose package is missing says which one to install.
 * Installed from the packed tarball into a fresh project (dependencies from npm's cache where it
 * has them). Needs `npm run build` first.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerProject, packPackage, run, type PackedPackage } from '../support/consumer.js';
import { spawnSync } from 'node:child_process';

/** The budget for a lean install: 12 MB (10^6 bytes) of files under node_modules. */
const LEAN_BUDGET_BYTES = 12_000_000;

let packed: PackedPackage;
let project: string;

/** Total size of the files under `dir` (apparent sizes, as `du --apparent-size` counts them). */
function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += treeBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

beforeAll(() => {
  packed = packPackage();
  project = consumerProject(packed, join(packed.workdir, 'lean'), {}, true);
}, 300_000);

afterAll(() => packed?.remove());

const bin = (): string => join(project, 'node_modules', '.bin', 'efficientnet');

describe('a lean install (npm install --omit=optional)', () => {
  it('installs none of the optional packages and stays within 12 MB of node_modules', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'efficientnet-wasm', 'package.json'), 'utf8')) as {
      optionalDependencies: Record<string, string>; dependencies: Record<string, string>;
    };
    const optional = Object.keys(manifest.optionalDependencies);
    expect(optional).toEqual(expect.arrayContaining(['onnx-proto', 'fastify']));
    for (const name of [...optional, 'protobufjs']) expect(existsSync(join(project, 'node_modules', name)), name).toBe(false);
    for (const name of Object.keys(manifest.dependencies)) expect(existsSync(join(project, 'node_modules', name)), name).toBe(true);
    const bytes = treeBytes(join(project, 'node_modules'));
    expect(bytes).toBeGreaterThan(1_000_000); // the package and its decoders really are there
    expect(bytes).toBeLessThanOrEqual(LEAN_BUDGET_BYTES);
  });

  it('runs the library and the core commands', () => {
    const photo = join(project, 'node_modules', 'efficientnet-wasm', 'data', 'images', 'panda.jpg');
    const classify = run(bin(), ['classify', photo, '--model', 'tf_efficientnet_b0.ns_jft_in1k', '--random-weights', '--json', '--topk', '1'], project);
    expect((JSON.parse(classify.stdout) as { top: unknown[] }[])[0].top).toHaveLength(1);
    const images = join(project, 'node_modules', 'efficientnet-wasm', 'data', 'images');
    for (const args of [
      ['--version'], ['--help'], ['summary', '--variant', 'b0', '--json'],
      ['init-weights', '--variant', 'b0', '--seed', '3', '--out', 'b0.safetensors'],
      ['preprocess', photo, '--model', 'tf_efficientnet_b0.ns_jft_in1k', '--out', 'x.npy'],
      ['run', '--variant', 'b0', '--weights', 'b0.safetensors', '--input', 'x.npy', '--logits', 'logits.npy'],
      ['bench', '--variant', 'b0', '--resolution', '32', '--runs', '1'],
      ['diagram', 'scaling', '--out', 'scaling.svg'],
      ['embed', images, '--model', 'tf_efficientnet_b0.ns_jft_in1k', '--random-weights', '--out', 'embeddings', '--quiet'],
    ]) run(bin(), args, project);
    for (const output of ['b0.safetensors', 'x.npy', 'logits.npy', 'scaling.svg', join('embeddings', 'embeddings.npy')]) {
      expect(existsSync(join(project, output)), output).toBe(true);
    }
    writeFileSync(join(project, 'library.mjs'), `
      import { readFile } from 'node:fs/promises';
      import { EfficientNet, createSyntheticWeights } from 'efficientnet-wasm';
      const net = await EfficientNet.create({ variant: 'b0', weights: createSyntheticWeights({ variant: 'b0', seed: 2 }) });
      const [top] = await net.classify(await readFile(${JSON.stringify(photo)}), { topk: 1 });
      console.log(JSON.stringify({ synthetic: top.synthetic, embedding: (await net.embed(await readFile(${JSON.stringify(photo)}))).length }));
      net.dispose();
    `);
    expect(JSON.parse(run(process.execPath, ['library.mjs'], project).stdout)).toEqual({ synthetic: true, embedding: 1280 });
  });

  it('export-onnx says in one line which package to install', () => {
    const result = spawnSync(bin(), ['export-onnx', '--variant', 'b0', '--weights', 'missing.safetensors', '--out', 'x.onnx'], { cwd: project, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      'efficientnet export-onnx: export-onnx needs the optional package onnx-proto, which is not installed; run `npm install onnx-proto`',
    );
  });
});
