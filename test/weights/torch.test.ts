/**
 * PyTorch checkpoints written by torch.save itself (scripts/make-weight-fixtures.py): both
 * containers, every name scheme, views and strides, wrappers, and the network's logits against
 * torchvision's own forward pass on the same file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { parseNpy } from '../../src/cli/npy.js';
import { EfficientNet } from '../../src/efficientnet.js';
import { WeightsFormatError, WeightsMismatchError } from '../../src/errors.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { inferShape } from '../../src/weights/infer-variant.js';
import { toTimmNaming } from '../../src/weights/naming/index.js';
import { openWeights } from '../../src/weights/open.js';
import { readFloat32 } from '../../src/weights/read.js';

const FIXTURES = new URL('../fixtures/torch/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));
const npy = (name: string): { data: Float32Array; shape: number[] } => {
  const array = parseNpy(fixture(name), name);
  return { data: array.data, shape: [...array.shape] };
};

/** The torchvision builder's settings the fixtures were made with: width 0.25, depth 0.34, 10 classes. */
const TINY = { width: 0.25, depth: 0.34, resolution: 64, dropout: 0.2 };

/**
 * Logits tolerance, relative to the largest |logit|: 5e-6. The two sides compute the same network
 * in float32 in different orders (BN folded into the weights here, applied after the conv in
 * PyTorch; our swish and sigmoid are polynomials within 3e-7 relative), so each layer adds a few
 * float32 roundings; measured here 3.4e-7 to 7.3e-7 (2026-12-03), and the house plan records 3e-6
 * for real B0 checkpoints, which are 3x deeper. 5e-6 covers both; a wrong padding family moves
 * these logits by over 2e-4 (checked below), a wrong mapping or layout by far more.
 */
const RELATIVE_TOLERANCE = 5e-6;

function maxRelativeDifference(ours: Float32Array, reference: Float32Array): number {
  const scale = Math.max(...Array.from(reference, Math.abs));
  let worst = 0;
  for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(ours[i] - reference[i]) / scale);
  return worst;
}

async function logitsOf(file: string, options: { padding?: 'same' | 'symmetric' } = {}): Promise<Float32Array> {
  const input = npy('input.npy');
  const net = await EfficientNet.create({ variant: TINY, weights: fixture(file), padding: options.padding ?? 'symmetric', bnEps: 1e-5 });
  try {
    expect(net.numClasses).toBe(10);
    return (await net.forward(input.data, input.shape)).logits;
  } finally {
    net.dispose();
  }
}

describe('torchvision checkpoints give torchvision\'s logits', () => {
  it.each([
    ['torchvision-zip.pth', 'torchvision-logits.npy'],
    ['torchvision-legacy.pth', 'torchvision-logits.npy'],
    ['efficientnet-pytorch-f16.pth', 'efficientnet-pytorch-f16-logits.npy'],
    ['timm-bf16.pth', 'timm-bf16-logits.npy'],
  ])('%s', async (file, logits) => {
    const reference = npy(logits);
    expect(reference.shape).toEqual([2, 10]);
    const ours = await logitsOf(file);
    const difference = maxRelativeDifference(ours, reference.data);
    console.log(`${file}: max |ours - torchvision| / max |logit| = ${difference.toExponential(2)}`);
    expect(difference).toBeLessThan(RELATIVE_TOLERANCE);
  });

  it('misses them by far more than the tolerance with the other padding family', async () => {
    const difference = maxRelativeDifference(await logitsOf('torchvision-zip.pth', { padding: 'same' }), npy('torchvision-logits.npy').data);
    expect(difference).toBeGreaterThan(20 * RELATIVE_TOLERANCE);
  });
});

describe('name schemes and containers', () => {
  it.each([
    ['torchvision-zip.pth', 'pytorch-zip', 'torchvision'],
    ['torchvision-legacy.pth', 'pytorch-legacy', 'torchvision'],
    ['efficientnet-pytorch-f16.pth', 'pytorch-zip', 'efficientnet-pytorch'],
    ['timm-bf16.pth', 'pytorch-zip', 'timm'],
    ['timm-headless.pth', 'pytorch-legacy', 'timm'],
  ])('%s is %s with %s names, shaped like the tiny network', async (file, format, naming) => {
    const opened = await openWeights(fixture(file));
    expect(opened.format).toBe(format);
    const named = await toTimmNaming(opened);
    expect(named.naming).toBe(naming);
    const shape = inferShape(named.source);
    expect(shape).toMatchObject({ stemChannels: 8, headChannels: 320, blocksPerStage: [1, 1, 1, 2, 2, 2, 1], variant: null });
    expect(shape.classes).toBe(file === 'timm-headless.pth' ? 0 : 10);
  });

  it('maps every torchvision tensor to the same values under timm\'s name', async () => {
    const torchvision = (await toTimmNaming(await openWeights(fixture('torchvision-zip.pth')))).source;
    const legacy = (await toTimmNaming(await openWeights(fixture('torchvision-legacy.pth')))).source;
    expect([...legacy.tensors.keys()].sort()).toEqual([...torchvision.tensors.keys()].sort());
    for (const [name, tensor] of torchvision.tensors) {
      if (tensor.dtype !== 'F32') continue;
      expect(readFloat32(legacy, name), name).toEqual(readFloat32(torchvision, name));
    }
  });
});

describe('views, strides and dtypes', () => {
  const expected = JSON.parse(readFileSync(new URL('views.json', FIXTURES), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;

  it.each(['views-zip.pth', 'views-legacy.pth', 'views-wrapped.pth'])('%s reads each tensor as torch holds it', async (file) => {
    const source = await openWeights(fixture(file));
    // The wrapper's "state_dict" key and DataParallel's "module." prefix are gone.
    expect([...source.tensors.keys()].sort()).toEqual([...Object.keys(expected), 'steps'].sort());
    for (const [name, { shape, values }] of Object.entries(expected)) {
      expect(source.tensors.get(name)!.shape, name).toEqual(shape);
      expect(Array.from(readFloat32(source, name)), name).toEqual(values.map(Math.fround));
    }
    expect(source.tensors.get('half')!.dtype).toBe('F16');
    expect(source.tensors.get('bf16')!.dtype).toBe('BF16');
    expect(source.tensors.get('steps')).toMatchObject({ dtype: 'I64', shape: [] });
    expect(() => readFloat32(source, 'steps')).toThrow(/dtype I64, which is not a supported float dtype/);
    expect(() => readFloat32(source, 'absent')).toThrow(WeightsMismatchError);
    expect(() => source.readInto('whole', new Float32Array(5))).toThrow(/\(24 elements\), but the destination holds 5/);
  });

  it('says a re-zipped (deflated) checkpoint is compressed and how to fix it', async () => {
    await expect(openWeights(fixture('views-deflated.pth'))).rejects.toThrow(/is compressed \(method 8\).*zip -0/);
  });
});

describe('EfficientNet.create refuses hostile PyTorch files before building anything', () => {
  it.each(['evil-system.pth', 'evil-exec-legacy.pth', 'evil-deep.pth', 'evil-huge-storage.pth', 'views-deflated.pth'])('%s', async (file) => {
    // Every core instance comes from WebAssembly.instantiate: none may be made for a refused file.
    const instantiate = vi.spyOn(WebAssembly, 'instantiate');
    try {
      await expect(EfficientNet.create({ variant: 'b0', weights: fixture(file) })).rejects.toBeInstanceOf(WeightsFormatError);
      expect(instantiate).not.toHaveBeenCalled();
    } finally {
      instantiate.mockRestore();
    }
  });
});

describe('hostile pickles are refused before anything runs or is allocated', () => {
  it.each([
    ['evil-system.pth', /refers to "posix\.system", which a weights file does not need, so it is refused and never run/],
    ['evil-exec-legacy.pth', /refers to "__builtin__\.exec"/],
    ['evil-deep.pth', /containers nest more than 100 deep/],
    ['evil-huge-storage.pth', /storage of 1099511627776 F32 elements, but the file holds 4 bytes/],
  ])('%s', async (file, message) => {
    const refusal = openWeights(fixture(file));
    await expect(refusal).rejects.toBeInstanceOf(WeightsFormatError);
    await expect(refusal).rejects.toThrow(message);
    const error = (await refusal.catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('\n');
  });
});

describe('files with another head', () => {
  const input = npy('input.npy');
  /** A small decoded RGB image (PixelData), so classify and embed run their whole path. */
  const image = { width: 40, height: 30, data: Uint8Array.from({ length: 40 * 30 * 3 }, (_, i) => (i * 37) % 256) };

  it('a 10-class file classifies into its own 10 classes, labelled by index', async () => {
    const net = await EfficientNet.create({ variant: TINY, weights: fixture('timm-bf16.pth'), padding: 'symmetric', bnEps: 1e-5 });
    try {
      const predictions = await net.classify(image, { topk: 20 });
      expect(predictions).toHaveLength(10);
      expect(predictions[0].label).toBe(`class ${predictions[0].index}`);
      expect(predictions.reduce((sum, p) => sum + p.probability, 0)).toBeCloseTo(1, 5);
    } finally {
      net.dispose();
    }
  });

  it('a file without a classifier gives the same features and embeddings, empty logits, and no classify', async () => {
    const full = await EfficientNet.create({ variant: TINY, weights: fixture('timm-bf16.pth'), padding: 'symmetric', bnEps: 1e-5 });
    const headless = await EfficientNet.create({ variant: TINY, weights: fixture('timm-headless.pth'), padding: 'symmetric', bnEps: 1e-5 });
    try {
      expect(headless.numClasses).toBe(0);
      const [a, b] = [await full.forward(input.data, input.shape), await headless.forward(input.data, input.shape)];
      expect(b.logits).toHaveLength(0);
      // Same stored values (BF16) and the same program up to the pooled features: identical bits.
      expect(b.features).toEqual(a.features);
      expect(await headless.embed(image)).toEqual(await full.embed(image));
      const maps = await headless.features(image);
      expect(maps.map((m) => m.stride)).toEqual([2, 4, 8, 16, 32]);
      await expect(headless.classify(image)).rejects.toThrow(/no classifier .* use embed or features/);
    } finally {
      full.dispose();
      headless.dispose();
    }
  });

  it('the reference backend runs a file without a classifier too', async () => {
    const net = await EfficientNet.create({ variant: TINY, weights: fixture('timm-headless.pth'), padding: 'symmetric', bnEps: 1e-5, backend: 'reference' });
    try {
      const { logits, features } = await net.forward(input.data, input.shape);
      expect(logits).toHaveLength(0);
      expect(features).toHaveLength(2 * 320);
    } finally {
      net.dispose();
    }
  });
});

describe('the ONNX exporter and a file without a classifier', () => {
  it('says why it cannot export one', async () => {
    const weights = (await toTimmNaming(await openWeights(fixture('timm-headless.pth')))).source;
    expect(() => exportOnnx({ network: buildNetwork(TINY, 0), weights, padding: 'symmetric', bnEps: 1e-5 })).toThrow(/no classifier .*"logits" output/);
  });
});
