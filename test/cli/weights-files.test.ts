/**
 * The built CLI on weights files of every format: `inspect`, `convert`, and `--weights` taking a
 * PyTorch file; hostile and unreadable files end in one line, exit status 2 and nothing written.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/cli/npy.js';
import { EfficientNet } from '../../src/efficientnet.js';
import { runCli } from '../support/cli.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/torch/', import.meta.url));
const fixture = (name: string): string => join(FIXTURES, name);
const work = mkdtempSync(join(tmpdir(), 'efficientnet-weights-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A failed command: status 2 and exactly one line on stderr (the typed error). */
function expectRefusal(result: ReturnType<typeof runCli>, message: RegExp): void {
  expect(result.status).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
}

describe('efficientnet inspect', () => {
  it('reports format, naming, variant, classes, tensors and dtypes as JSON', () => {
    const result = runCli(['inspect', fixture('torchvision-legacy.pth'), '--json']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      format: 'pytorch-legacy', naming: 'torchvision', variant: null, classes: 10, tensors: 228,
      dtypes: { F32: 197, I64: 31 }, stemChannels: 8, headChannels: 320, blocksPerStage: [1, 1, 1, 2, 2, 2, 1],
    });
  });

  it('says when a file has no classifier', () => {
    const result = runCli(['inspect', fixture('timm-headless.pth')]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('PyTorch legacy pickle');
    expect(result.stdout).toContain('classes: none (no classifier: a feature extractor)');
  });

  it.each([
    ['evil-system.pth', /^efficientnet inspect: .*refers to "posix\.system".*refused and never run/],
    ['evil-deep.pth', /containers nest more than 100 deep/],
    ['evil-huge-storage.pth', /storage of 1099511627776 F32 elements/],
    ['views-deflated.pth', /is compressed \(method 8\)/],
    ['input.npy', /not a weights file this reads \(first bytes: 93 4e 55 4d 50 59/],
  ])('refuses %s with one line and status 2', (file, message) => {
    expectRefusal(runCli(['inspect', fixture(file)]), message);
  });
});

describe('files past 2 GiB', () => {
  it('are read by range: inspect answers from the header of a 2.5 GB file without reading its data', () => {
    // One F32 tensor of 625M elements (2.5 GB): the file is sparse, so it costs no disk space,
    // and Node's readFile would refuse it (2 GiB limit); the range reader fetches only the header.
    const count = 625_000_000;
    const header = new TextEncoder().encode(JSON.stringify({ 'classifier.weight': { dtype: 'F32', shape: [count / 2500, 2500], data_offsets: [0, count * 4] } }));
    const path = join(work, 'huge.safetensors');
    const prefix = new Uint8Array(8 + header.length); // [u64 header length, header]
    new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
    prefix.set(header, 8);
    writeFileSync(path, prefix);
    truncateSync(path, prefix.length + count * 4);
    const result = runCli(['inspect', path, '--json']);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ format: 'safetensors', classes: 250_000, tensors: 1, dtypes: { F32: 1 } });
    rmSync(path);
  });
});

describe('efficientnet convert', () => {
  const input = parseNpy(readFileSync(fixture('input.npy')));
  const tiny = { width: 0.25, depth: 0.34, resolution: 64, dropout: 0.2 };
  const logitsOf = async (weights: Uint8Array): Promise<Float32Array> => {
    const net = await EfficientNet.create({ variant: tiny, weights, padding: 'symmetric', bnEps: 1e-5 });
    try {
      return (await net.forward(input.data, [...input.shape])).logits;
    } finally {
      net.dispose();
    }
  };

  it('writes timm-named safetensors that give exactly the logits of the file it came from', async () => {
    const out = join(work, 'nested', 'tiny.safetensors');
    const result = runCli(['convert', fixture('torchvision-legacy.pth'), '--out', out]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/wrote .*tiny\.safetensors .*F32, timm names\): 197 tensors .* from pytorch-legacy with torchvision names/);
    const converted = new Uint8Array(readFileSync(out));
    const inspected = JSON.parse(runCli(['inspect', out, '--json']).stdout) as Record<string, unknown>;
    expect(inspected).toMatchObject({ format: 'safetensors', naming: 'timm', classes: 10, tensors: 197, dtypes: { F32: 197 } });
    expect(await logitsOf(converted)).toEqual(await logitsOf(new Uint8Array(readFileSync(fixture('torchvision-legacy.pth')))));
  });

  it('stores F16 and BF16 on request', () => {
    for (const dtype of ['f16', 'bf16']) {
      const out = join(work, `tiny-${dtype}.safetensors`);
      expect(runCli(['convert', fixture('efficientnet-pytorch-f16.pth'), '--out', out, '--dtype', dtype]).status).toBe(0);
      const inspected = JSON.parse(runCli(['inspect', out, '--json']).stdout) as { dtypes: Record<string, number> };
      expect(inspected.dtypes).toEqual({ [dtype.toUpperCase()]: 197 });
    }
  });

  it.each([
    ['evil-exec-legacy.pth', /refers to "__builtin__\.exec"/],
    ['views-zip.pth', /are not timm, torchvision, EfficientNet-PyTorch or Keras names/],
    ['input.npy', /not a weights file this reads/],
  ])('refuses %s and writes nothing', (file, message) => {
    const out = join(work, 'refused', `${file}.safetensors`);
    expectRefusal(runCli(['convert', fixture(file), '--out', out]), message);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(work, 'refused')) ? readdirSync(join(work, 'refused')) : []).toEqual([]);
  });

  it('refuses an unknown dtype as a usage error', () => {
    const result = runCli(['convert', fixture('timm-bf16.pth'), '--out', join(work, 'x.safetensors'), '--dtype', 'f8']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--dtype must be f32, f16 or bf16, got "f8"/);
  });
});

describe('--weights takes PyTorch files', () => {
  it('run reads a torchvision checkpoint and reports it is not the variant asked for, writing nothing', () => {
    const logits = join(work, 'run-logits.npy');
    const result = runCli(['run', '--variant', 'b0', '--weights', fixture('torchvision-zip.pth'), '--input', fixture('input.npy'), '--logits', logits]);
    expectRefusal(result, /does not match EfficientNet-B0: .*the file's shapes are those of no member of the family \(stem 8, head 320, blocks per stage 1, 1, 1, 2, 2, 2, 1\)/);
    expect(existsSync(logits)).toBe(false);
  });

  it('run refuses a hostile pickle before building anything', () => {
    const logits = join(work, 'evil-logits.npy');
    expectRefusal(
      runCli(['run', '--variant', 'b0', '--weights', fixture('evil-system.pth'), '--input', fixture('input.npy'), '--logits', logits]),
      /refers to "posix\.system"/,
    );
    expect(existsSync(logits)).toBe(false);
  });

  it('bench reads a PyTorch file through the same loader', () => {
    expectRefusal(runCli(['bench', '--variant', 'b0', '--weights', fixture('torchvision-legacy.pth'), '--runs', '1']), /does not match EfficientNet-B0: .*stem 8, head 320/);
  });

  it('export-onnx reads a PyTorch file through the same loader', () => {
    const out = join(work, 'model.onnx');
    expectRefusal(runCli(['export-onnx', '--variant', 'b0', '--weights', fixture('timm-bf16.pth'), '--out', out]), /does not match EfficientNet-B0/);
    expect(existsSync(out)).toBe(false);
  });
});
