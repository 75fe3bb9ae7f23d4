import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/cli/npy.js';
import { EfficientNet } from '../../src/efficientnet.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import { runCli } from '../support/cli.js';
import { mulberry32, randomFloats } from '../support/random.js';

const workdir = mkdtempSync(join(tmpdir(), 'efficientnet-cli-'));

describe('efficientnet summary', () => {
  it('prints the published totals as JSON', () => {
    const result = runCli(['summary', '--variant', 'b0', '--json']);
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.params).toBe(5_288_548);
    expect(summary.macs).toBe(385_814_752);
    expect(summary.activationBytes).toBeGreaterThan(112 * 112 * 96 * 4); // the largest b0 map must fit
    expect(summary.layers.map((l: { name: string }) => l.name)).toContain('blocks.1.0.conv_dw');
  });
  it('prints one row per timm layer and the totals as a table', () => {
    const result = runCli(['summary', '--variant', 'b3', '--resolution', '320']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^blocks\.6\.1\.conv_pwl\s+pwconv/m);
    expect(result.stdout).toContain('12,233,232');
    expect(result.stdout).toMatch(/activation arena:\s+[\d.]+ MiB/);
  });
  it('exits 2 with a one-line reason for a bad variant or option', () => {
    const bad = runCli(['summary', '--variant', 'b11']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown variant "b11"/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack without --verbose
    expect(runCli(['summary', '--variant', 'b0', '--bogus']).status).toBe(2);
    expect(runCli(['nonsense']).status).toBe(2);
  });
});

describe('efficientnet init-weights and run', () => {
  const weightsPath = join(workdir, 'b0.safetensors');

  it('writes deterministic synthetic weights marked as synthetic', () => {
    expect(runCli(['init-weights', '--variant', 'b0', '--seed', '3', '--out', weightsPath]).status).toBe(0);
    const again = join(workdir, 'b0-again.safetensors');
    runCli(['init-weights', '--variant', 'b0', '--seed', '3', '--out', again]);
    expect(readFileSync(again).equals(readFileSync(weightsPath))).toBe(true);
    const file = parseSafetensors(new Uint8Array(readFileSync(weightsPath)));
    expect(file.tensors.get('blocks.1.0.conv_dw.weight')?.shape).toEqual([96, 1, 3, 3]);
    expect(JSON.stringify(file.metadata)).toMatch(/synthetic/);
  });

  it('runs a .npy through the network, giving the library\'s logits and a dump per block', async () => {
    const input = randomFloats(mulberry32(1), 2 * 3 * 48 * 40, 2);
    const inputPath = join(workdir, 'x.npy');
    writeFileSync(inputPath, encodeNpy(input, [2, 3, 48, 40]));
    const dump = join(workdir, 'dump');
    const result = runCli(['run', '--variant', 'b0', '--weights', weightsPath, '--input', inputPath,
      '--logits', join(workdir, 'logits.npy'), '--features', join(workdir, 'features.npy'), '--dump', dump]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const logits = parseNpy(new Uint8Array(readFileSync(join(workdir, 'logits.npy'))));
    const features = parseNpy(new Uint8Array(readFileSync(join(workdir, 'features.npy'))));
    expect(logits.shape).toEqual([2, 1000]);
    expect(features.shape).toEqual([2, 1280]);
    const net = await EfficientNet.create({ variant: 'b0', weights: new Uint8Array(readFileSync(weightsPath)) });
    const direct = await net.forward(input, [2, 3, 48, 40]);
    expect(Buffer.from(logits.data.buffer).equals(Buffer.from(direct.logits.buffer))).toBe(true);
    const dumped = readdirSync(dump).sort();
    expect(dumped).toContain('blocks.0.0.npy');
    expect(dumped).toContain('blocks.6.0.npy');
    expect(dumped).toContain('bn1.npy');
    expect(dumped.length).toBe(16 + 4); // stem (bn1), 16 blocks, head (bn2), global_pool, classifier
    const stage2 = parseNpy(new Uint8Array(readFileSync(join(dump, 'blocks.1.1.npy'))));
    expect(stage2.shape).toEqual([2, 24, 12, 10]); // NCHW like a PyTorch forward hook
  });

  it('traces every kernel call with its timm module, output statistics and time', () => {
    const inputPath = join(workdir, 'trace.npy');
    writeFileSync(inputPath, encodeNpy(randomFloats(mulberry32(2), 3 * 32 * 32, 1), [1, 3, 32, 32]));
    const result = runCli(['run', '--variant', 'b0', '--weights', weightsPath, '--input', inputPath, '--logits', join(workdir, 'trace-logits.npy'), '--trace']);
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    const row = (module: string, kind: string) => lines.find((l) => l.startsWith(`${module} `) && l.includes(` ${kind} `));
    expect(row('conv_stem', 'conv2d')).toMatch(/1x16x16x32/);
    expect(row('blocks.6.0.conv_pwl', 'pointwise')).toMatch(/1x1x1x320/);
    expect(row('classifier', 'pointwise')).toMatch(/1x1000\s+-?[\d.e-]+\s+-?[\d.e-]+/);
    expect(result.stdout).toMatch(/total [\d.]+ ms in \d+ kernel calls/);
  });

  it('benchmarks a variant and reports the median as JSON', () => {
    const result = runCli(['bench', '--variant', 'b0', '--resolution', '64', '--runs', '3', '--json']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.medianMs).toBeGreaterThan(0);
    expect(report.medianMs).toBeGreaterThanOrEqual(report.minMs);
    expect(report.medianMs).toBeLessThanOrEqual(report.maxMs);
    expect(report).toMatchObject({ variant: 'b0', resolution: 64, batch: 1, runs: 3 });
  });

  it('benchmarks a preset at its own input size (224 for this B1, whose variant default is 240)', () => {
    const result = runCli(['bench', '--model', 'efficientnet_b1.ft_in1k', '--runs', '1', '--json']);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ model: 'efficientnet_b1.ft_in1k', variant: 'b1', resolution: 224 });
    const both = runCli(['bench', '--model', 'efficientnet_b1.ft_in1k', '--variant', 'b1', '--runs', '1']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --variant or --model/);
  });

  it('refuses a wrong .npy or missing weights with exit code 2', () => {
    const bad = join(workdir, 'bad.npy');
    writeFileSync(bad, encodeNpy(new Float32Array(4 * 8 * 8), [1, 4, 8, 8]));
    const wrongChannels = runCli(['run', '--variant', 'b0', '--weights', weightsPath, '--input', bad, '--logits', join(workdir, 'l.npy')]);
    expect(wrongChannels.status).toBe(2);
    expect(wrongChannels.stderr).toMatch(/\[n, 3, height, width\]/);
    const good = join(workdir, 'good.npy');
    writeFileSync(good, encodeNpy(new Float32Array(3 * 8 * 8), [1, 3, 8, 8]));
    const missing = runCli(['run', '--variant', 'b0', '--weights', join(workdir, 'nope.safetensors'), '--input', good, '--logits', join(workdir, 'l.npy')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope\.safetensors/);
    const otherVariant = runCli(['run', '--variant', 'b1', '--weights', weightsPath, '--input', good, '--logits', join(workdir, 'l.npy')]);
    expect(otherVariant.status).toBe(2);
    expect(otherVariant.stderr).toMatch(/missing|shape/);
  });
});
