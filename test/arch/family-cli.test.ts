/**
 * The command line over the Lite and V2 members: `summary`, `diagram`, `init-weights`, `run --trace`
 * and `export-onnx` accept them and describe them from the same block list as the library. Runs
 * the built CLI (`dist/`, made by `npm run build`), like test/cli.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/cli/npy.js';
import { runCli } from '../support/cli.js';
import { mulberry32, randomFloats } from '../support/random.js';

const workdir = mkdtempSync(join(tmpdir(), 'efficientnet-family-cli-'));

describe('the command line over Lite and V2', () => {
  it('summarises Lite0 and V2-S with their published parameter counts and their own layer names', () => {
    const lite = JSON.parse(runCli(['summary', '--variant', 'lite0', '--json']).stdout);
    expect(lite.params).toBe(4_652_008);
    expect(lite.layers.some((l: { op: string }) => l.op === 'se_reduce')).toBe(false);
    const v2 = runCli(['summary', '--variant', 'v2_s']);
    expect(v2.status).toBe(0);
    expect(v2.stdout).toMatch(/^EfficientNetV2-S at 384x384/m);
    expect(v2.stdout).toContain('21,458,488');
    expect(v2.stdout).toMatch(/^blocks\.1\.0\.conv_exp\s+conv\s+3x3\s+2/m);
    expect(v2.stdout).toMatch(/^blocks\.0\.1\.conv\s+conv\s+3x3/m);
  });

  it('draws V2-B0 with its fused-MBConv and conv-bn-act stages', () => {
    const out = join(workdir, 'v2_b0.svg');
    expect(runCli(['diagram', '--variant', 'v2_b0', '--out', out]).status).toBe(0);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toContain('EfficientNetV2-B0 at 224×224');
    expect(svg).toContain('FusedMBConv4');
    expect(svg).toContain('Conv3×3');
  });

  it('traces a V2-B0 forward pass: full convs, fused expansions, SE only in the MBConv stages', () => {
    const weights = join(workdir, 'v2_b0.safetensors');
    expect(runCli(['init-weights', '--variant', 'v2_b0', '--seed', '4', '--out', weights]).status).toBe(0);
    const input = join(workdir, 'x.npy');
    writeFileSync(input, encodeNpy(randomFloats(mulberry32(3), 3 * 48 * 48, 1), [1, 3, 48, 48]));
    const result = runCli(['run', '--variant', 'v2_b0', '--weights', weights, '--input', input, '--logits', join(workdir, 'l.npy'), '--trace']);
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    const row = (module: string, kind: string) => lines.find((l) => l.startsWith(`${module} `) && l.includes(` ${kind} `));
    expect(row('blocks.0.0.conv', 'conv2d')).toMatch(/1x24x24x16/);
    expect(row('blocks.1.0.conv_exp', 'conv2d')).toMatch(/1x12x12x64/);
    expect(row('blocks.1.0.se', 'se-gate')).toBeUndefined();
    expect(row('blocks.3.0.se', 'se-gate')).toMatch(/1x192/); // 48 in, expanded 4x
  });

  it('exports Lite0 to ONNX', () => {
    const weights = join(workdir, 'lite0.safetensors');
    expect(runCli(['init-weights', '--variant', 'lite0', '--seed', '5', '--out', weights]).status).toBe(0);
    const out = join(workdir, 'lite0.onnx');
    const result = runCli(['export-onnx', '--variant', 'lite0', '--weights', weights, '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/EfficientNet-Lite0, same padding/);
    expect(existsSync(out)).toBe(true);
  });
});
