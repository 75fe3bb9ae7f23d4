/**
 * EfficientNet as an ONNX model, so any ONNX runtime can run (and check) the network this project
 * runs. The graph is the inference network with BN already folded into each conv, exactly the
 * graph an optimising converter would leave:
 *
 *   input [N, 3, H, W] -> Conv+act (stem) -> blocks -> Conv+act (head) -> GlobalAveragePool
 *     -> Flatten = features [N, head] -> Gemm = logits [N, classes]
 *
 * N, H and W are symbolic: one file serves every batch size and resolution.
 *
 * - Padding. `symmetric` is explicit `pads` of k/2 on every side. TF `same` is `auto_pad =
 *   SAME_UPPER`: ONNX then pads to an output of ceil(in / stride), with the odd pixel at the end,
 *   which is TF's SAME rule for every input size (explicit pads could only match one size).
 * - Depthwise convs are Conv with group = channels, weight [C, 1, k, k].
 * - swish is Sigmoid then Mul: the exact function, no approximation (HardSwish is a different one).
 *   ReLU6 (EfficientNet-Lite) is Clip to [0, 6]; ReLU is Relu.
 * - Blocks walk the network's block list: MBConv, depthwise-separable, fused-MBConv (a full kxk
 *   expansion conv) and conv-bn-act (EfficientNetV2's first stage), each with SE only where the
 *   topology has it.
 * - SE: GlobalAveragePool, 1x1 Conv with bias, swish, 1x1 Conv with bias, Sigmoid, Mul (broadcast
 *   over H and W).
 */
import { blockModules, expectedTensors } from '../arch/layers.js';
import type { BlockSpec, NetworkSpec } from '../arch/network.js';
import type { PaddingMode } from '../arch/padding.js';
import type { ActivationName } from '../arch/topology.js';
import { variantTitle } from '../arch/variants.js';
import { ConfigError, ResourceLimitError } from '../errors.js';
import { matchTensors } from '../weights/match.js';
import { foldingRecipe, type FoldedTensor } from '../weights/recipe.js';
import { elementCount, type WeightSource } from '../weights/source.js';
import { foldLayer } from './fold.js';
import { OnnxGraphBuilder, type AttributeValue } from './graph.js';

export interface OnnxExportOptions {
  readonly network: NetworkSpec;
  /** Weights with timm's tensor names for `network` (any format, mapped by `naming/`). */
  readonly weights: WeightSource;
  readonly padding: PaddingMode;
  /** BN epsilon folded into the weights (1e-3 for `tf_efficientnet_*`, 1e-5 for `efficientnet_*`). */
  readonly bnEps: number;
  /** Version of the default ONNX operator set, MIN_OPSET … MAX_OPSET (default DEFAULT_OPSET). */
  readonly opset?: number;
}

/**
 * Every op used (Conv, Sigmoid, Mul, Add, Clip, Relu, GlobalAveragePool, Flatten, Gemm) has the meaning used
 * here in every opset from 11 to 17, and 17 is the last one IR version 8 (the schema we encode
 * with) covers. 13 is old enough for any current runtime.
 */
export const MIN_OPSET = 11;
export const MAX_OPSET = 17;
export const DEFAULT_OPSET = 13;

/**
 * Protobuf refuses messages of 2 GiB or more, and an inline ONNX model is one message. The graph
 * itself (names, dims, attributes) takes well under 1 MiB even for L2; 16 MiB of headroom leaves
 * the check comfortably on the safe side. L2, the largest variant, fits: its model file is
 * 1.92 GB (1830 MiB), and ONNX Runtime Web loads and runs it in Node.
 */
export const MAX_INLINE_WEIGHT_BYTES = 2 ** 31 - 1 - 2 ** 24;

/** Bytes of float32 weights and biases after BN folding: what the model file stores. */
export function foldedWeightBytes(network: NetworkSpec): number {
  return foldingRecipe(network).reduce((sum, t) => sum + (elementCount(t.shape) + t.outChannels) * 4, 0);
}

/** `EfficientNetV2-S`, or `EfficientNet (custom)` for coefficients outside the table. */
const networkTitle = (network: NetworkSpec): string => (network.name === 'custom' ? 'EfficientNet (custom)' : variantTitle(network.name));

export function exportOnnx(options: OnnxExportOptions): Uint8Array {
  const { network, weights, padding, bnEps } = options;
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ConfigError(`ONNX opset ${opset} is not supported: expected an integer from ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  if (!Number.isFinite(bnEps) || bnEps <= 0) throw new ConfigError(`bnEps must be a positive number, got ${bnEps}`);
  if (network.numClasses === 0) {
    throw new ConfigError('these weights have no classifier (a feature extractor); the ONNX export needs one for its "logits" output');
  }
  const weightBytes = foldedWeightBytes(network);
  if (weightBytes > MAX_INLINE_WEIGHT_BYTES) {
    throw new ResourceLimitError(
      `${networkTitle(network)} has ${weightBytes} bytes of folded weights, above the ` +
        `${MAX_INLINE_WEIGHT_BYTES} bytes an ONNX model can hold inline (protobuf's 2 GiB limit); ` +
        'external-data export is not implemented',
    );
  }
  matchTensors(weights, expectedTensors(network), { describe: `EfficientNet-${network.name.toUpperCase()}` });

  const recipe = new Map<string, FoldedTensor>(foldingRecipe(network).map((t) => [t.layer, t]));
  const graph = new OnnxGraphBuilder();

  /** Adds `layer`'s folded weight and bias as initializers; returns their names and the kernel size. */
  const parameters = (layer: string): { weight: string; bias: string; kernel: number } => {
    const entry = recipe.get(layer)!;
    const folded = foldLayer(weights, layer, entry.bn, bnEps);
    return {
      weight: graph.initializer(`${layer}.weight`, folded.weight, folded.shape),
      bias: graph.initializer(`${layer}.bias`, folded.bias, [entry.outChannels]),
      kernel: entry.kernel,
    };
  };

  const paddingAttributes = (kernel: number): Record<string, AttributeValue> => {
    if (kernel === 1) return {};
    const side = Math.floor(kernel / 2);
    return padding === 'same' ? { auto_pad: 'SAME_UPPER' } : { pads: [side, side, side, side] };
  };

  /** A conv (BN folded in, bias added); `groups` equal to the channel count makes it depthwise. */
  const conv = (x: string, layer: string, stride: number, groups = 1): string => {
    const p = parameters(layer);
    return graph.node('Conv', [x, p.weight, p.bias], layer, {
      kernel_shape: [p.kernel, p.kernel],
      strides: [stride, stride],
      group: groups,
      ...paddingAttributes(p.kernel),
    });
  };

  const swish = (x: string): string => graph.node('Mul', [x, graph.node('Sigmoid', [x], `${x}.sigmoid`)], `${x}.swish`);

  // ReLU6 is Clip between two scalar initializers (inputs, not attributes, from opset 11 on).
  let clipBounds: readonly [string, string] | null = null;
  const relu6 = (x: string): string => {
    clipBounds ??= [graph.initializer('relu6.min', new Float32Array([0]), []), graph.initializer('relu6.max', new Float32Array([6]), [])];
    return graph.node('Clip', [x, ...clipBounds], `${x}.relu6`);
  };

  const activate = (x: string, activation: ActivationName): string => {
    switch (activation) {
      case 'swish': return swish(x);
      case 'relu6': return relu6(x);
      case 'relu': return graph.node('Relu', [x], `${x}.relu`);
    }
  };

  const squeezeExcite = (x: string, block: BlockSpec): string => {
    const pooled = graph.node('GlobalAveragePool', [x], `${block.name}.se.pool`); // [n, c, 1, 1]
    const squeezed = swish(conv(pooled, `${block.name}.se.conv_reduce`, 1)); // [n, se, 1, 1]
    const gate = graph.node('Sigmoid', [conv(squeezed, `${block.name}.se.conv_expand`, 1)], `${block.name}.se.gate`); // [n, c, 1, 1]
    return graph.node('Mul', [x, gate], `${block.name}.se`);
  };

  /** A block as its parts (blockModules): [1x1 expand] -> kxk conv (depthwise or full) -> [SE] -> [1x1 project], [+ input]. */
  const blockOutput = (x: string, block: BlockSpec): string => {
    const modules = blockModules(block);
    let y = x; // [n, in, h, w]
    if (modules.expand !== null) y = activate(conv(y, modules.expand.conv, 1), block.activation); // [n, expanded, h, w]
    const groups = modules.spatial.depthwise ? block.expandedChannels : 1;
    y = activate(conv(y, modules.spatial.conv, block.stride, groups), block.activation); // [n, expanded, h/stride, w/stride]
    if (block.seChannels > 0) y = squeezeExcite(y, block);
    if (modules.project !== null) y = conv(y, modules.project.conv, 1); // [n, out, h/stride, w/stride]
    return block.residual ? graph.node('Add', [x, y], `${block.name}.residual`) : y;
  };

  let x = activate(conv('input', 'conv_stem', network.stem.stride), network.stem.activation); // [n, stem, h/2, w/2]
  for (const block of network.blocks) x = blockOutput(x, block);
  const head = activate(conv(x, 'conv_head', 1), network.head.activation); // [n, head, h/32, w/32]
  const pooled = graph.node('GlobalAveragePool', [head], 'global_pool'); // [n, head, 1, 1]
  graph.node('Flatten', [pooled], 'features', { axis: 1 }); // [n, head]
  const classifier = parameters('classifier');
  graph.node('Gemm', ['features', classifier.weight, classifier.bias], 'logits', { transB: 1 }); // [n, classes]

  return graph.encode({
    graphName: `efficientnet_${network.name}`,
    inputs: [{ name: 'input', dims: ['batch', 3, 'height', 'width'] }],
    outputs: [
      { name: 'logits', dims: ['batch', network.numClasses] },
      { name: 'features', dims: ['batch', network.headChannels] },
    ],
    opset,
    metadata: { variant: network.name, padding, bn_eps: String(bnEps) },
    docString: `${networkTitle(network)}, ${padding} padding, BN (eps ${bnEps}) folded into the convs. ` +
      'Input: normalised RGB images, NCHW float32.',
  });
}
