import { describe, expect, it } from 'vitest';
import { expectedTensors } from '../../src/arch/layers.js';
import { buildNetwork, type NetworkSpec } from '../../src/arch/network.js';
import { customScaling } from '../../src/arch/scaling.js';
import { ConfigError } from '../../src/errors.js';
import { parseSafetensors, readTensorAsFloat32, type SafetensorsFile } from '../../src/weights/safetensors.js';
import { createSyntheticWeights, syntheticTensor, SYNTHETIC_METADATA_KEY } from '../../src/weights/synthetic.js';

/** Smallest positive normal float32; anything smaller but non-zero is denormal. */
const MIN_NORMAL_F32 = 2 ** -126;

const b0 = { variant: 'b0', seed: 11 } as const;
const b0File = parseSafetensors(createSyntheticWeights(b0));

const mean = (values: Float32Array): number => values.reduce((sum, v) => sum + v, 0) / values.length;
const variance = (values: Float32Array): number => {
  const m = mean(values);
  return values.reduce((sum, v) => sum + (v - m) ** 2, 0) / values.length;
};

/** Bitwise equality; vitest's toEqual walks typed arrays key by key, far too slowly for megabytes. */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function allValues(file: SafetensorsFile): Map<string, Float32Array> {
  return new Map([...file.tensors.keys()].map((name) => [name, readTensorAsFloat32(file, name)]));
}

describe('createSyntheticWeights: layout', () => {
  it.each([
    ['b0', buildNetwork('b0')],
    ['b3', buildNetwork('b3')],
    ['a custom network with 10 classes', buildNetwork(customScaling(0.5, 0.6, 64), 10)],
  ])('writes every timm tensor of %s, in order, as F32 with its PyTorch shape', (_label, network: NetworkSpec) => {
    const file = parseSafetensors(createSyntheticWeights({ variant: network, seed: 3 }));
    const expected = expectedTensors(network);
    expect([...file.tensors.keys()]).toEqual(expected.map((t) => t.name));
    for (const spec of expected) {
      const entry = file.tensors.get(spec.name)!;
      expect(entry.dtype).toBe('F32');
      expect(entry.shape).toEqual(spec.shape);
    }
  });

  it('marks the file as synthetic in __metadata__', () => {
    expect(b0File.metadata).toEqual({
      format: 'pt',
      [SYNTHETIC_METADATA_KEY]: 'true',
      variant: 'b0',
      seed: '11',
      num_classes: '1000',
    });
  });

  it('sizes the classifier from numClasses when given a variant name', () => {
    const file = parseSafetensors(createSyntheticWeights({ variant: 'b0', seed: 1, numClasses: 7 }));
    expect(file.tensors.get('classifier.weight')!.shape).toEqual([7, 1280]);
    expect(file.tensors.get('classifier.bias')!.shape).toEqual([7]);
  });
});

describe('createSyntheticWeights: determinism', () => {
  it('gives identical bytes for the same seed', () => {
    expect(sameBytes(createSyntheticWeights(b0), b0File.bytes)).toBe(true);
  });

  it('gives a different value in every tensor for another seed', () => {
    const other = allValues(parseSafetensors(createSyntheticWeights({ variant: 'b0', seed: 12 })));
    for (const [name, values] of allValues(b0File)) {
      const changed = values.some((v, i) => v !== other.get(name)![i]);
      expect(changed, name).toBe(true);
    }
  });

  it('regenerates any tensor alone, bit for bit', () => {
    for (const [name, values] of allValues(b0File)) {
      expect(sameBytes(syntheticTensor(b0, name), values), name).toBe(true);
    }
  });

  it("does not let one tensor's values depend on another tensor's shape", () => {
    // Ten classes change only the classifier; every other tensor keeps its exact values.
    const tenClasses = parseSafetensors(createSyntheticWeights({ ...b0, numClasses: 10 }));
    for (const name of ['conv_stem.weight', 'blocks.3.1.conv_dw.weight', 'conv_head.weight', 'bn2.running_var']) {
      expect(sameBytes(readTensorAsFloat32(tenClasses, name), readTensorAsFloat32(b0File, name)), name).toBe(true);
    }
  });

  it('gives unrelated streams to different tensors of the same shape', () => {
    // b0's stage-5 repeats have identical shapes; for independent uniform streams of N values the
    // sample correlation has standard deviation 1/sqrt(N), so 5/sqrt(N) fails by chance with
    // probability below 1e-6.
    const a = readTensorAsFloat32(b0File, 'blocks.5.1.conv_pw.weight');
    const b = readTensorAsFloat32(b0File, 'blocks.5.2.conv_pw.weight');
    const ma = mean(a);
    const mb = mean(b);
    let covariance = 0;
    for (let i = 0; i < a.length; i++) covariance += (a[i] - ma) * (b[i] - mb);
    const correlation = covariance / a.length / Math.sqrt(variance(a) * variance(b));
    expect(Math.abs(correlation)).toBeLessThan(5 / Math.sqrt(a.length));
  });
});

describe('createSyntheticWeights: values', () => {
  it('holds no zero, non-finite or denormal value in any tensor (b0 and b3)', () => {
    for (const file of [b0File, parseSafetensors(createSyntheticWeights({ variant: 'b3', seed: 5 }))]) {
      for (const [name, values] of allValues(file)) {
        const smallest = values.reduce((min, v) => Math.min(min, Math.abs(v)), Infinity);
        expect(values.every(Number.isFinite), name).toBe(true);
        // 1e-30 is the brief's floor; it is far above the denormal range (< 1.2e-38).
        expect(smallest, name).toBeGreaterThanOrEqual(Math.max(1e-30, MIN_NORMAL_F32));
      }
    }
  });

  it('draws conv weights uniformly around zero', () => {
    // 1.28M classifier weights. A uniform on [-a, a] has mean 0 (standard error a/sqrt(3N)), and
    // each of 10 equal bins holds 10% (standard error sqrt(0.09/N)); 5 standard errors each.
    const values = readTensorAsFloat32(b0File, 'classifier.weight');
    const n = values.length;
    const halfWidth = values.reduce((max, v) => Math.max(max, Math.abs(v)), 0);
    expect(Math.abs(mean(values))).toBeLessThan((5 * halfWidth) / Math.sqrt(3 * n));
    const bins = new Array<number>(10).fill(0);
    for (const v of values) bins[Math.min(9, Math.floor(((v + halfWidth) / (2 * halfWidth)) * 10))]++;
    for (const count of bins) expect(Math.abs(count / n - 0.1)).toBeLessThan(5 * Math.sqrt(0.09 / n));
  });

  it('keeps BN statistics in their documented ranges', () => {
    const network = buildNetwork('b0');
    for (const spec of expectedTensors(network).filter((t) => t.name.endsWith('.running_var'))) {
      const values = readTensorAsFloat32(b0File, spec.name);
      expect(values.every((v) => v >= 0.5 && v <= 1.5), spec.name).toBe(true);
    }
  });

  it("scales gamma down on each residual branch's last BN, to 1/sqrt(residual blocks in the stage)", () => {
    // Non-residual BNs have gamma in [0.9, 1.1]; a residual branch's last BN has gamma in
    // [0.9, 1.1] / sqrt(R), so a deep stage's sum grows slowly. Checked on L2's layout (21
    // residual blocks in a stage) without generating L2: one tensor at a time.
    const network = buildNetwork('l2');
    const residualPerStage = new Map<number, number>();
    for (const block of network.blocks) {
      if (block.residual) residualPerStage.set(block.stage, (residualPerStage.get(block.stage) ?? 0) + 1);
    }
    for (const block of network.blocks.filter((b) => (b.stage === 0 || b.stage === 4) && b.index <= 1)) {
      const last = block.kind === 'mbconv' ? 'bn3' : 'bn2';
      const centre = block.residual ? 1 / Math.sqrt(residualPerStage.get(block.stage)!) : 1;
      const gamma = syntheticTensor({ variant: network, seed: 2 }, `${block.name}.${last}.weight`);
      expect(gamma.every((g) => g >= 0.9 * centre && g <= 1.1 * centre), block.name).toBe(true);
      const firstGamma = syntheticTensor({ variant: network, seed: 2 }, `${block.name}.bn1.weight`);
      expect(firstGamma.every((g) => g >= 0.9 && g <= 1.1), block.name).toBe(true);
    }
  });

  it('puts most of a depthwise kernel on its centre tap', () => {
    // Design share 3/4 of the variance; over 1152 channels the sample share has a standard
    // deviation of about 0.002, so +-0.05 fails only if the design changed.
    const weights = readTensorAsFloat32(b0File, 'blocks.5.1.conv_dw.weight'); // [1152, 1, 5, 5]
    let centre = 0;
    let total = 0;
    weights.forEach((w, i) => {
      total += w * w;
      if (i % 25 === 12) centre += w * w;
    });
    expect(centre / total).toBeGreaterThan(0.7);
    expect(centre / total).toBeLessThan(0.8);
  });
});

describe('createSyntheticWeights: options', () => {
  it.each([-1, 1.5, 2 ** 32, Number.NaN])('rejects seed %s', (seed) => {
    expect(() => createSyntheticWeights({ variant: 'b0', seed })).toThrow(ConfigError);
  });

  it('rejects a numClasses that contradicts the given network', () => {
    expect(() => createSyntheticWeights({ variant: buildNetwork('b0', 10), seed: 0, numClasses: 20 })).toThrow(ConfigError);
  });

  it('rejects a tensor name the network does not have', () => {
    expect(() => syntheticTensor(b0, 'blocks.9.0.conv_pw.weight')).toThrow(ConfigError);
  });
});
