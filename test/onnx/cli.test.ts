/**
 * `efficientnet export-onnx`: option handling and defaults in process, and the dispatch through
 * the built CLI (`npm test` builds it first) as a user would run it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { UsageError } from '../../src/cli/args.js';
import { exportOnnxCommand } from '../../src/cli/commands/export-onnx.js';
import { ConfigError } from '../../src/errors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { runCli } from '../support/cli.js';

const { onnx } = onnxProto;

const workdir = mkdtempSync(join(tmpdir(), 'efficientnet-onnx-'));
const weightsPath = join(workdir, 'b0.safetensors');
writeFileSync(weightsPath, createSyntheticWeights({ variant: 'b0', seed: 3 }));

/** Runs the command in process and returns what it printed and the model's metadata. */
async function exportTo(name: string, options: string[]): Promise<{ lines: string[]; metadata: Record<string, string>; opset: number }> {
  const out = join(workdir, name);
  const lines: string[] = [];
  await exportOnnxCommand([...options, '--weights', weightsPath, '--out', out], (line) => lines.push(line));
  const model = onnx.ModelProto.decode(readFileSync(out));
  const metadata = Object.fromEntries(model.metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
  return { lines, metadata, opset: Number(model.opsetImport[0].version) };
}

describe('efficientnet export-onnx', () => {
  it('defaults a bare variant to TF SAME padding with eps 1e-3 and opset 13, and says what it wrote', async () => {
    const { lines, metadata, opset } = await exportTo('variant.onnx', ['--variant', 'b0']);
    expect(metadata).toEqual({ variant: 'b0', padding: 'same', bn_eps: '0.001' });
    expect(opset).toBe(13);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/variant\.onnx \([\d.]+ MiB\): EfficientNet-B0, same padding/);
    expect(lines[0]).toContain('"logits" [batch, 1000] and "features" [batch, 1280]');
  });

  it("takes a timm checkpoint's padding and eps from its preset, and lets --padding, --bn-eps and --opset override", async () => {
    expect((await exportTo('preset.onnx', ['--model', 'efficientnet_b0.ra_in1k'])).metadata).toMatchObject({ padding: 'symmetric', bn_eps: '0.00001' });
    // An explicit --padding brings its own family's eps, as EfficientNet.create does.
    expect((await exportTo('padding.onnx', ['--model', 'efficientnet_b0.ra_in1k', '--padding', 'same'])).metadata).toMatchObject({ padding: 'same', bn_eps: '0.001' });
    const custom = await exportTo('custom.onnx', ['--variant', 'b0', '--bn-eps', '0.0002', '--opset', '17']);
    expect(custom.metadata).toMatchObject({ padding: 'same', bn_eps: '0.0002' });
    expect(custom.opset).toBe(17);
  });

  it('refuses a missing or doubled model choice, a bad variant and an unsupported opset', async () => {
    const run = (options: string[]) => exportOnnxCommand([...options, '--weights', weightsPath, '--out', join(workdir, 'x.onnx')], () => {});
    await expect(run([])).rejects.toThrow(UsageError);
    await expect(run(['--variant', 'b0', '--model', 'efficientnet_b0'])).rejects.toThrow(UsageError);
    await expect(run(['--variant', 'b9'])).rejects.toThrow(/unknown variant "b9"/);
    await expect(run(['--variant', 'b0', '--opset', '9'])).rejects.toThrow(ConfigError);
  });

  it('is a command of the built CLI, with exit code 2 and the usage line on a usage error', () => {
    const ok = runCli(['export-onnx', '--variant', 'b0', '--weights', weightsPath, '--out', join(workdir, 'cli.onnx')]);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const outputs = onnx.ModelProto.decode(readFileSync(join(workdir, 'cli.onnx'))).graph?.output ?? [];
    expect(outputs.map((o) => o.name)).toEqual(['logits', 'features']);
    const bad = runCli(['export-onnx', '--variant', 'b0', '--weights', weightsPath]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/missing required option --out/);
    expect(bad.stderr).toContain('usage: efficientnet export-onnx');
  });
});
