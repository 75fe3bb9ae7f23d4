/**
 * Full-size B0 weights under torchvision's and EfficientNet-PyTorch's names (written here from
 * synthetic timm weights, the names restated independently of src/weights/naming/), so the
 * mappings are checked on all 16 blocks of a real variant: the same logits bit for bit, the
 * variant inferred, and the CLI's inspect and classify on such a file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { loadWeights } from '../../src/weights/load.js';
import { inferShape } from '../../src/weights/infer-variant.js';
import { parseSafetensors, readTensorAsFloat32 } from '../../src/weights/safetensors.js';
import { writeSafetensors } from '../../src/weights/safetensors-writer.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { runCli } from '../support/cli.js';

const timmBytes = createSyntheticWeights({ variant: 'b0', seed: 5 });
const timm = parseSafetensors(timmBytes);

/** Stage 1's blocks have no expand conv; torchvision numbers their sub-modules from the depthwise conv. */
const TORCHVISION_DEPTHWISE_SEPARABLE: Record<string, string> = {
  conv_dw: '0.0', bn1: '0.1', 'se.conv_reduce': '1.fc1', 'se.conv_expand': '1.fc2', conv_pw: '2.0', bn2: '2.1',
};
const TORCHVISION_MBCONV: Record<string, string> = {
  conv_pw: '0.0', bn1: '0.1', conv_dw: '1.0', bn2: '1.1', 'se.conv_reduce': '2.fc1', 'se.conv_expand': '2.fc2', conv_pwl: '3.0', bn3: '3.1',
};
const TORCHVISION_ENDS: Record<string, string> = { conv_stem: 'features.0.0', bn1: 'features.0.1', conv_head: 'features.8.0', bn2: 'features.8.1', classifier: 'classifier.1' };

function torchvisionName(name: string): string {
  const parts = name.split('.');
  const parameter = parts[parts.length - 1];
  if (parts[0] !== 'blocks') return `${TORCHVISION_ENDS[parts[0]]}.${parameter}`;
  const [, stage, index] = parts;
  const module = parts.slice(3, -1).join('.');
  const table = stage === '0' ? TORCHVISION_DEPTHWISE_SEPARABLE : TORCHVISION_MBCONV;
  return `features.${Number(stage) + 1}.${index}.block.${table[module]}.${parameter}`;
}

/** EfficientNet-PyTorch: blocks numbered flat in network order. */
function efficientNetPytorchNames(): Map<string, string> {
  const order = [...new Set([...timm.tensors.keys()].filter((n) => n.startsWith('blocks.')).map((n) => n.split('.').slice(1, 3).join('.')))];
  const parts: Record<string, string> = {
    conv_pw: '_expand_conv', conv_dw: '_depthwise_conv', 'se.conv_reduce': '_se_reduce', 'se.conv_expand': '_se_expand', conv_pwl: '_project_conv',
  };
  const ends: Record<string, string> = { conv_stem: '_conv_stem', bn1: '_bn0', conv_head: '_conv_head', bn2: '_bn1', classifier: '_fc' };
  const names = new Map<string, string>();
  for (const name of timm.tensors.keys()) {
    const p = name.split('.');
    const parameter = p[p.length - 1];
    if (p[0] !== 'blocks') {
      names.set(name, `${ends[p[0]]}.${parameter}`);
      continue;
    }
    const flat = order.indexOf(`${p[1]}.${p[2]}`);
    const module = p.slice(3, -1).join('.');
    const separable = p[1] === '0';
    const bn = separable ? { bn1: '_bn1', bn2: '_bn2' } : { bn1: '_bn0', bn2: '_bn1', bn3: '_bn2' };
    const part = separable && module === 'conv_pw' ? '_project_conv' : (bn as Record<string, string>)[module] ?? parts[module];
    names.set(name, `_blocks.${flat}.${part}.${parameter}`);
  }
  return names;
}

function renamedFile(rename: (name: string) => string): Uint8Array {
  return writeSafetensors([...timm.tensors.values()].map((t) => ({ name: rename(t.name), shape: t.shape, data: readTensorAsFloat32(timm, t.name) })));
}

const work = mkdtempSync(join(tmpdir(), 'efficientnet-names-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const effnetNames = efficientNetPytorchNames();
const files = {
  torchvision: renamedFile(torchvisionName),
  'efficientnet-pytorch': renamedFile((name) => effnetNames.get(name)!),
};

describe.each(Object.entries(files))('B0 under %s names', (naming, bytes) => {
  it('is detected, mapped onto every timm name, and read as B0', async () => {
    const loaded = await loadWeights(bytes);
    expect(loaded.naming).toBe(naming);
    expect([...loaded.source.tensors.keys()].sort()).toEqual([...timm.tensors.keys()].sort());
    expect(inferShape(loaded.source)).toMatchObject({ variant: 'b0', classes: 1000, blocksPerStage: [1, 2, 2, 3, 3, 4, 1] });
  });

  it('gives exactly the logits of the timm-named file', async () => {
    const shape = [1, 3, 64, 64];
    const input = Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.01));
    const [a, b] = [await EfficientNet.create({ variant: 'b0', weights: timmBytes }), await EfficientNet.create({ variant: 'b0', weights: bytes })];
    try {
      expect((await b.forward(input, shape)).logits).toEqual((await a.forward(input, shape)).logits);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe('the CLI on a torchvision-named B0', () => {
  const path = join(work, 'b0-torchvision.safetensors');
  writeFileSync(path, files.torchvision);

  it('inspect names the scheme, the variant and the options to run it with', () => {
    const result = runCli(['inspect', path]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('safetensors, torchvision names');
    expect(result.stdout).toContain('network: EfficientNet-B0 (stem 32, head 1280, blocks per stage 1, 2, 2, 3, 3, 4, 1)');
    expect(result.stdout).toContain('run with: --model torchvision/efficientnet_b0');
  });

  it('classify runs it with the torchvision preset', () => {
    const result = runCli(['classify', '--example', '--model', 'torchvision/efficientnet_b0', '--weights', path, '--topk', '1', '--json']);
    expect(result.status).toBe(0);
    const answers = JSON.parse(result.stdout) as { model: string; top: { index: number }[] }[];
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) {
      expect(answer.model).toBe('torchvision/efficientnet_b0');
      expect(answer.top).toHaveLength(1);
    }
  });
});
