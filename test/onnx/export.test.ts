/**
 * The ONNX exporter, checked by running its models on ONNX Runtime Web (WebAssembly backend, one
 * thread) against this project's own core on the same synthetic weights. Two independent
 * implementations agreeing cross-checks both: the exporter's graph (padding, folding, SE, head)
 * and the core's kernels.
 */
import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { buildNetwork, type NetworkSpec } from '../../src/arch/network.js';
import type { PaddingMode } from '../../src/arch/padding.js';
import type { VariantName } from '../../src/arch/variants.js';
import { EfficientNet } from '../../src/efficientnet.js';
import { ConfigError, ResourceLimitError, WeightsMismatchError } from '../../src/errors.js';
import { exportOnnx, foldedWeightBytes, MAX_INLINE_WEIGHT_BYTES } from '../../src/onnx/export.js';
import { foldingRecipe } from '../../src/weights/recipe.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { createOnnxSession, runOnnxSession, type OnnxOutputs } from '../../bench/peers/onnxruntime.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { expectWithin, FLOAT32_EPSILON } from '../support/tolerance.js';

const { onnx } = onnxProto;

const SEED = 6;
const BN_EPS: Readonly<Record<PaddingMode, number>> = { same: 1e-3, symmetric: 1e-5 };
type Shape = readonly [number, number, number, number];

const maxAbs = (values: Float32Array): number => values.reduce((max, v) => Math.max(max, Math.abs(v)), 0);
const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i])), 0);

/**
 * How far two float32 implementations of the same network may drift apart: one float32 ulp
 * (2^-23, relative) per weighted layer the signal passes through, times the output's scale
 * (its largest |value|). It is a budget, not a proof. Each layer re-rounds its result, and the two
 * runtimes round differently there: they sum the up to 1152 (1x1) or 25 (depthwise) products of
 * a dot product and the H*W terms of a mean in different orders, and their exp differs in the
 * last bits (our core's polynomial exp has relative error <= 2.24e-7; ORT's MLAS logistic is its
 * own approximation). The synthetic weights keep every layer's gain near one, so a layer neither
 * amplifies nor damps earlier differences much, and adding one ulp per layer linearly is the
 * pessimistic end of that picture (independent differences would grow like its square root).
 * For B0 (82 layers) and logits of about 5 that is 4.9e-5; we measured ~7e-6, as tfjs shows ~5e-6.
 */
function tolerance(network: NetworkSpec, reference: Float32Array): number {
  return foldingRecipe(network).length * FLOAT32_EPSILON * maxAbs(reference);
}

function unitNoise(shape: Shape, seed: number): Float32Array {
  const [n, c, h, w] = shape;
  return randomFloats(mulberry32(seed), n * c * h * w, Math.sqrt(3)); // [n, 3, h, w], variance 1
}

async function runBoth(
  variant: VariantName, exported: PaddingMode, ours: PaddingMode, shape: Shape,
): Promise<{ network: NetworkSpec; ours: OnnxOutputs; onnx: OnnxOutputs }> {
  const bytes = createSyntheticWeights({ variant, seed: SEED });
  const network = buildNetwork(variant);
  const model = exportOnnx({ network, weights: parseSafetensors(bytes), padding: exported, bnEps: BN_EPS[exported] });
  const session = await createOnnxSession(model, 1);
  const net = await EfficientNet.create({ variant, weights: bytes, padding: ours, bnEps: BN_EPS[ours] });
  const input = unitNoise(shape, shape[2] * 1000 + shape[3]);
  try {
    return { network, ours: await net.forward(input, shape), onnx: await runOnnxSession(session, input, shape) };
  } finally {
    net.dispose();
    await session.release();
  }
}

function expectAgreement(network: NetworkSpec, result: { ours: OnnxOutputs; onnx: OnnxOutputs }, label: string): void {
  for (const output of ['logits', 'features'] as const) {
    const bound = tolerance(network, result.ours[output]);
    const diff = maxAbsDiff(result.onnx[output], result.ours[output]);
    console.log(`${label} ${output}: max |onnx - ours| = ${diff.toExponential(2)} (bound ${bound.toExponential(2)}, scale ${maxAbs(result.ours[output]).toFixed(2)})`);
    expectWithin(result.onnx[output], result.ours[output], () => bound, `${label} ${output}`);
  }
}

describe('exported models on ONNX Runtime Web match the core', () => {
  const cases: { variant: VariantName; padding: PaddingMode; shape: Shape }[] = [
    { variant: 'b0', padding: 'same', shape: [1, 3, 224, 224] },
    { variant: 'b0', padding: 'symmetric', shape: [1, 3, 224, 224] },
    // Odd sizes give SAME odd padding totals (the extra pixel after) at every stride-2 layer; batch 2 checks N is symbolic.
    { variant: 'b0', padding: 'same', shape: [2, 3, 67, 45] },
    { variant: 'b0', padding: 'symmetric', shape: [2, 3, 67, 45] },
    // Wider and deeper: stage 1 has a residual block, and channel counts are not multiples of 16.
    { variant: 'b3', padding: 'same', shape: [1, 3, 96, 96] },
    // Lite: ReLU6 (Clip) and no SE. V2: conv-bn-act and fused-MBConv stages (full 3x3 convs), SE only
    // in the MBConv stages; V2-S's first stage has conv-bn-act blocks with a residual.
    { variant: 'lite0', padding: 'same', shape: [1, 3, 96, 96] },
    { variant: 'v2_b0', padding: 'same', shape: [2, 3, 67, 45] },
    { variant: 'v2_s', padding: 'symmetric', shape: [1, 3, 64, 64] },
  ];
  for (const { variant, padding, shape } of cases) {
    it(`${variant} ${padding} ${shape.join('x')}`, async () => {
      const result = await runBoth(variant, padding, padding, shape);
      expect(result.onnx.logits.length).toBe(shape[0] * result.network.numClasses);
      expect(result.onnx.features.length).toBe(shape[0] * result.network.headChannels);
      expectAgreement(result.network, result, `${variant} ${padding} ${shape.join('x')}`);
    });
  }

  it('tells the padding families apart: a symmetric export misses a SAME core by far more than the tolerance', async () => {
    const result = await runBoth('b0', 'symmetric', 'same', [1, 3, 67, 45]);
    const bound = tolerance(result.network, result.ours.logits);
    const diff = maxAbsDiff(result.onnx.logits, result.ours.logits);
    console.log(`padding swapped: max |onnx - ours| = ${diff.toExponential(2)} (bound ${bound.toExponential(2)})`);
    expect(diff).toBeGreaterThan(10 * bound);
  });
});

/** The fields of a decoded ModelProto this file reads (protobufjs's `toObject` with every default filled in). */
interface DecodedAttribute { name: string; i: number; ints: number[]; s: Uint8Array }
interface DecodedNode { name: string; opType: string; attribute: DecodedAttribute[] }
interface DecodedValue { name: string; type: { tensorType: { shape: { dim: { dimValue: number; dimParam: string }[] } } } }
interface DecodedTensor { dataType: number; dims: number[]; rawData: Uint8Array }
interface DecodedModel {
  opsetImport: { version: number }[];
  graph: { node: DecodedNode[]; initializer: DecodedTensor[]; input: DecodedValue[]; output: DecodedValue[] };
}

function decodeModel(bytes: Uint8Array): DecodedModel {
  const message = onnx.ModelProto.decode(bytes);
  return onnx.ModelProto.toObject(message, { longs: Number, defaults: true, arrays: true }) as unknown as DecodedModel;
}

describe('the exported graph', () => {
  const network = buildNetwork('b0');
  const weights = parseSafetensors(createSyntheticWeights({ variant: 'b0', seed: SEED }));
  const decode = (padding: PaddingMode, opset?: number): DecodedModel =>
    decodeModel(exportOnnx({ network, weights, padding, bnEps: BN_EPS[padding], opset }));
  const ints = (node: DecodedNode, name: string): number[] | undefined => {
    const attribute = node.attribute.find((a) => a.name === name);
    return attribute === undefined ? undefined : attribute.ints.length > 0 ? attribute.ints : [attribute.i];
  };
  const text = (node: DecodedNode, name: string): string | undefined => {
    const attribute = node.attribute.find((a) => a.name === name);
    return attribute === undefined ? undefined : Buffer.from(attribute.s).toString('utf8');
  };

  it('has one float input with symbolic batch, height and width, and logits and features outputs', () => {
    const model = decode('same');
    const dims = (v: DecodedValue) => v.type.tensorType.shape.dim.map((d) => d.dimParam || d.dimValue);
    expect(model.graph.input.map((v) => v.name)).toEqual(['input']);
    expect(dims(model.graph.input[0])).toEqual(['batch', 3, 'height', 'width']);
    expect(model.graph.output.map((v) => [v.name, dims(v)])).toEqual([
      ['logits', ['batch', network.numClasses]],
      ['features', ['batch', network.headChannels]],
    ]);
    expect(model.opsetImport.map((o) => o.version)).toEqual([13]);
    expect(decode('same', 17).opsetImport.map((o) => o.version)).toEqual([17]);
  });

  it('folds every BN: one Conv or Gemm with a bias per weighted layer, no BatchNormalization', () => {
    const model = decode('same');
    const recipe = foldingRecipe(network);
    const ops = model.graph.node.map((n) => n.opType);
    expect(ops).not.toContain('BatchNormalization');
    expect(ops.filter((op) => op === 'Conv').length).toBe(recipe.length - 1);
    expect(ops.filter((op) => op === 'Gemm').length).toBe(1);
    expect(model.graph.initializer.length).toBe(2 * recipe.length);
    for (const tensor of model.graph.initializer) {
      expect(tensor.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
      expect(tensor.rawData.length).toBe(4 * tensor.dims.reduce((a, d) => a * d, 1));
    }
  });

  it('pads with SAME_UPPER for TF SAME and explicit k/2 pads for symmetric; depthwise convs are grouped', () => {
    for (const padding of ['same', 'symmetric'] as const) {
      const convs = decode(padding).graph.node.filter((n) => n.opType === 'Conv');
      for (const node of convs) {
        const kernel = ints(node, 'kernel_shape')![0];
        const half = Math.floor(kernel / 2);
        expect(text(node, 'auto_pad'), node.name).toBe(padding === 'same' && kernel > 1 ? 'SAME_UPPER' : undefined);
        expect(ints(node, 'pads'), node.name).toEqual(padding === 'symmetric' && kernel > 1 ? [half, half, half, half] : undefined);
      }
      for (const block of network.blocks) {
        const depthwise = convs.find((n) => n.name === `${block.name}.conv_dw`)!;
        expect(ints(depthwise, 'group')).toEqual([block.expandedChannels]);
        expect(ints(depthwise, 'strides')).toEqual([block.stride, block.stride]);
      }
    }
  });
});

describe('exportOnnx refusals', () => {
  const network = buildNetwork('b0');
  const weights = parseSafetensors(createSyntheticWeights({ variant: 'b0', seed: SEED }));

  it('refuses opsets outside 11 to 17 and a non-positive BN epsilon', () => {
    expect(() => exportOnnx({ network, weights, padding: 'same', bnEps: 1e-3, opset: 10 })).toThrow(ConfigError);
    expect(() => exportOnnx({ network, weights, padding: 'same', bnEps: 1e-3, opset: 18 })).toThrow(ConfigError);
    expect(() => exportOnnx({ network, weights, padding: 'same', bnEps: 0 })).toThrow(ConfigError);
  });

  it('refuses weights of another variant, naming the mismatch', () => {
    const b1 = parseSafetensors(createSyntheticWeights({ variant: 'b1', seed: SEED }));
    expect(() => exportOnnx({ network, weights: b1, padding: 'same', bnEps: 1e-3 })).toThrow(WeightsMismatchError);
  });

  it('exports every variant up to L2 inline, and refuses a network too big for one protobuf message', () => {
    // L2's folded weights are 1.92 GB, under protobuf's 2 GiB (2.147 GB) per message. (Exporting L2
    // for real needs 1.9 GB of synthetic weights and ~6 GB of memory: too heavy for this suite.)
    expect(foldedWeightBytes(buildNetwork('l2'))).toBeLessThanOrEqual(MAX_INLINE_WEIGHT_BYTES);
    const wider = buildNetwork({ width: 4.6, depth: 5.3, resolution: 800, dropout: 0.5 });
    expect(foldedWeightBytes(wider)).toBeGreaterThan(MAX_INLINE_WEIGHT_BYTES);
    // The size is checked before any weight is read, so b0's file stands in for the giant's.
    expect(() => exportOnnx({ network: wider, weights, padding: 'same', bnEps: 1e-3 })).toThrow(ResourceLimitError);
  });
});
