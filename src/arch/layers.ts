/**
 * The network as a flat list of layers, named exactly like timm's modules, with shapes,
 * parameter counts and multiply-adds. The summary prints it; the weight loader derives the
 * expected tensor names and shapes from it.
 */
import { convOutputSize, type BlockSpec, type NetworkSpec } from './network.js';

export type LayerOp = 'conv' | 'dwconv' | 'pwconv' | 'bn' | 'se_reduce' | 'se_expand' | 'pool' | 'linear';

/** Per-image activation shape in PyTorch order. */
export type ChwShape = readonly [channels: number, height: number, width: number];

export interface TensorSpec {
  readonly name: string;
  /** PyTorch layout: conv `[out, in/groups, kh, kw]`, linear `[out, in]`, BN `[c]`. */
  readonly shape: readonly number[];
  /** Counted as a trainable parameter (BN running statistics are not). */
  readonly trainable: boolean;
}

export interface LayerSpec {
  /** timm module name, e.g. `blocks.1.0.conv_dw`. */
  readonly name: string;
  readonly op: LayerOp;
  readonly kernel: number;
  readonly stride: number;
  readonly input: ChwShape;
  readonly output: ChwShape;
  readonly tensors: readonly TensorSpec[];
  /** Trainable parameters (weights, biases, BN gamma and beta). */
  readonly params: number;
  /** Multiply-adds per image (conv, SE and linear layers; BN, activations and pooling count 0). */
  readonly macs: number;
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function layer(
  name: string, op: LayerOp, kernel: number, stride: number, input: ChwShape, output: ChwShape,
  tensors: TensorSpec[], macs: number,
): LayerSpec {
  const params = tensors.filter((t) => t.trainable).reduce((sum, t) => sum + product(t.shape), 0);
  return { name, op, kernel, stride, input, output, tensors, params, macs };
}

const weight = (name: string, shape: number[]): TensorSpec => ({ name: `${name}.weight`, shape, trainable: true });
const bias = (name: string, channels: number): TensorSpec => ({ name: `${name}.bias`, shape: [channels], trainable: true });

function convLayer(name: string, input: ChwShape, outChannels: number, kernel: number, stride: number, depthwise: boolean): LayerSpec {
  const [inChannels, h, w] = input;
  const output: ChwShape = [outChannels, convOutputSize(h, stride), convOutputSize(w, stride)];
  const perGroupIn = depthwise ? 1 : inChannels;
  const op: LayerOp = depthwise ? 'dwconv' : kernel === 1 ? 'pwconv' : 'conv';
  const macs = output[1] * output[2] * outChannels * perGroupIn * kernel * kernel;
  return layer(name, op, kernel, stride, input, output, [weight(name, [outChannels, perGroupIn, kernel, kernel])], macs);
}

function batchNormLayer(name: string, shape: ChwShape): LayerSpec {
  const c = shape[0];
  return layer(name, 'bn', 1, 1, shape, shape, [
    weight(name, [c]),
    bias(name, c),
    { name: `${name}.running_mean`, shape: [c], trainable: false },
    { name: `${name}.running_var`, shape: [c], trainable: false },
  ], 0);
}

/** SE's two 1x1 convs act on the pooled vector, so their cost is per image, not per pixel. */
function squeezeExciteLayers(prefix: string, shape: ChwShape, squeezed: number): LayerSpec[] {
  const c = shape[0];
  const reduce = `${prefix}.se.conv_reduce`;
  const expand = `${prefix}.se.conv_expand`;
  return [
    layer(reduce, 'se_reduce', 1, 1, [c, 1, 1], [squeezed, 1, 1], [weight(reduce, [squeezed, c, 1, 1]), bias(reduce, squeezed)], c * squeezed),
    layer(expand, 'se_expand', 1, 1, [squeezed, 1, 1], [c, 1, 1], [weight(expand, [c, squeezed, 1, 1]), bias(expand, c)], c * squeezed),
  ];
}

/**
 * The module names of each block kind's convs and BNs, in execution order, as timm names them.
 * `expand` is the first conv when the block widens its input; `spatial` the kxk conv (depthwise
 * except in `conv-bn-act` and `fused-mbconv`, where it is full); `project` the 1x1 projection.
 */
export interface BlockModules {
  readonly expand: { readonly conv: string; readonly bn: string } | null;
  readonly spatial: { readonly conv: string; readonly bn: string; readonly depthwise: boolean };
  readonly project: { readonly conv: string; readonly bn: string } | null;
}

export function blockModules(block: BlockSpec): BlockModules {
  const p = block.name;
  switch (block.kind) {
    case 'conv-bn-act':
      return { expand: null, spatial: { conv: `${p}.conv`, bn: `${p}.bn1`, depthwise: false }, project: null };
    case 'depthwise-separable':
      return { expand: null, spatial: { conv: `${p}.conv_dw`, bn: `${p}.bn1`, depthwise: true }, project: { conv: `${p}.conv_pw`, bn: `${p}.bn2` } };
    case 'fused-mbconv':
      return { expand: null, spatial: { conv: `${p}.conv_exp`, bn: `${p}.bn1`, depthwise: false }, project: { conv: `${p}.conv_pwl`, bn: `${p}.bn2` } };
    case 'mbconv':
      return {
        expand: { conv: `${p}.conv_pw`, bn: `${p}.bn1` },
        spatial: { conv: `${p}.conv_dw`, bn: `${p}.bn2`, depthwise: true },
        project: { conv: `${p}.conv_pwl`, bn: `${p}.bn3` },
      };
  }
}

/** The layers of one block in execution order, using timm's module names. */
export function blockLayers(block: BlockSpec, input: ChwShape): LayerSpec[] {
  const modules = blockModules(block);
  const layers: LayerSpec[] = [];
  let shape = input;
  const push = (l: LayerSpec): void => {
    layers.push(l);
    shape = l.output;
  };
  if (modules.expand !== null) {
    push(convLayer(modules.expand.conv, shape, block.expandedChannels, 1, 1, false));
    push(batchNormLayer(modules.expand.bn, shape));
  }
  const { spatial } = modules;
  push(convLayer(spatial.conv, shape, block.expandedChannels, block.kernel, block.stride, spatial.depthwise));
  push(batchNormLayer(spatial.bn, shape));
  if (block.seChannels > 0) layers.push(...squeezeExciteLayers(block.name, shape, block.seChannels));
  if (modules.project !== null) {
    push(convLayer(modules.project.conv, shape, block.outChannels, 1, 1, false));
    push(batchNormLayer(modules.project.bn, shape));
  }
  return layers;
}

/** Every layer of the network for a square `resolution` input, in execution order. */
export function networkLayers(network: NetworkSpec, resolution: number): LayerSpec[] {
  const layers: LayerSpec[] = [];
  let shape: ChwShape = [3, resolution, resolution];
  const push = (l: LayerSpec): void => {
    layers.push(l);
    shape = l.output;
  };
  push(convLayer('conv_stem', shape, network.stem.channels, network.stem.kernel, network.stem.stride, false));
  push(batchNormLayer('bn1', shape));
  for (const block of network.blocks) {
    for (const l of blockLayers(block, shape)) layers.push(l);
    shape = layers[layers.length - 1].output;
  }
  push(convLayer('conv_head', shape, network.headChannels, 1, 1, false));
  push(batchNormLayer('bn2', shape));
  push(layer('global_pool', 'pool', shape[1], 1, shape, [shape[0], 1, 1], [], 0));
  const c = network.headChannels;
  // A feature extractor (a checkpoint saved without its head, timm's num_classes=0) has no classifier.
  if (network.numClasses > 0) {
    push(layer('classifier', 'linear', 1, 1, [c, 1, 1], [network.numClasses, 1, 1],
      [weight('classifier', [network.numClasses, c]), bias('classifier', network.numClasses)], c * network.numClasses));
  }
  return layers;
}

/** All tensors a checkpoint for this network holds (excluding `num_batches_tracked`). */
export function expectedTensors(network: NetworkSpec): TensorSpec[] {
  // Tensor shapes do not depend on resolution; 32 keeps this cheap for any variant.
  return networkLayers(network, 32).flatMap((l) => l.tensors);
}
