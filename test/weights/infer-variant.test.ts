/**
 * The variant read from a file's shapes, over the whole family: each member's own tensor list is
 * recognised as that member and no other, including the pairs that share stem, head and block
 * counts (B0 and Lite0). Sources here carry shapes only: inference never reads tensor data.
 */
import { describe, expect, it } from 'vitest';
import { expectedTensors } from '../../src/arch/layers.js';
import { buildNetwork } from '../../src/arch/network.js';
import { VARIANT_NAMES, type VariantName } from '../../src/arch/variants.js';
import { describeShape, inferShape } from '../../src/weights/infer-variant.js';
import type { SourceTensor, WeightSource } from '../../src/weights/source.js';

function shapesOnly(tensors: readonly { name: string; shape: readonly number[] }[]): WeightSource {
  const map = new Map<string, SourceTensor>(tensors.map(({ name, shape }) => [name, { name, dtype: 'F32', shape }]));
  return { format: 'safetensors', tensors: map, readInto: () => { throw new Error('shape-only source'); } };
}

const tensorsOf = (variant: VariantName, classes = 1000) => expectedTensors(buildNetwork(variant, classes));

describe('inferShape over the family', () => {
  it.each(VARIANT_NAMES)('recognises %s from its tensor list', (variant) => {
    expect(inferShape(shapesOnly(tensorsOf(variant))).variant).toBe(variant);
  });

  it('tells B0 from Lite0, which share stem, head and blocks per stage', () => {
    expect(inferShape(shapesOnly(tensorsOf('lite0'))).variant).toBe('lite0');
    expect(inferShape(shapesOnly(tensorsOf('b0'))).variant).toBe('b0');
    expect(describeShape(inferShape(shapesOnly(tensorsOf('lite0'))))).toMatch(/^EfficientNet-Lite0 \(stem 32, head 1280/);
  });

  it('recognises a file with another head or none, and tolerates a training counter', () => {
    expect(inferShape(shapesOnly(tensorsOf('v2_s', 10))).classes).toBe(10);
    expect(inferShape(shapesOnly(tensorsOf('v2_s', 10))).variant).toBe('v2_s');
    expect(inferShape(shapesOnly(tensorsOf('lite2', 0))).variant).toBe('lite2');
    const counted = [...tensorsOf('b1'), { name: 'blocks.0.0.bn1.num_batches_tracked', shape: [] }];
    expect(inferShape(shapesOnly(counted)).variant).toBe('b1');
  });

  it('names no member when a block tensor is missing, extra or reshaped', () => {
    const b0 = tensorsOf('b0');
    const missing = b0.filter(({ name }) => name !== 'blocks.3.1.conv_dw.weight');
    const extra = [...b0, { name: 'blocks.3.1.extra.weight', shape: [4] }];
    const reshaped = b0.map((t) => (t.name === 'blocks.2.0.conv_pwl.weight' ? { ...t, shape: [41, 144, 1, 1] } : t));
    for (const tensors of [missing, extra, reshaped]) {
      const shape = inferShape(shapesOnly(tensors));
      expect(shape.variant).toBeNull();
      expect(describeShape(shape)).toMatch(/^no member of the family \(stem 32, head 1280/);
    }
  });
});
