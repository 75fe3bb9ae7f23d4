/**
 * An independent EfficientNet forward pass in TensorFlow.js (CPU backend), used only by tests to
 * cross-check the project's own WASM core. It shares nothing with the core but the network
 * description and the safetensors reader: every layer is a stock tfjs op, BN runs unfolded on the
 * file's running statistics, and padding is handled by tfjs itself, so a bug in the project's
 * folding, packing, padding or kernels cannot hide by being reproduced here.
 *
 * Never import this from `src/`: tfjs is a dev dependency.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expectedTensors } from '../../src/arch/layers.js';
import type { BlockSpec, NetworkSpec } from '../../src/arch/network.js';
import { InputShapeError, WeightsMismatchError } from '../../src/errors.js';
import { readTensorAsFloat32, type SafetensorsFile } from '../../src/weights/safetensors.js';

// Production mode only mutes tfjs's console advice to install the native tfjs-node backend.
tf.env().set('PROD', true);

/**
 * `same`: TensorFlow SAME (timm `tf_efficientnet_*`). `symmetric`: `k/2` on each side (timm
 * `efficientnet_*`). Declared here rather than imported so this module depends on no project rule.
 */
export type TfjsPadding = 'same' | 'symmetric';

export interface TfjsForwardOptions {
  readonly padding: TfjsPadding;
  /** BN epsilon: 1e-3 for the `same` family, 1e-5 for `symmetric`. */
  readonly bnEps: number;
  /** Also return every block's output (NCHW), for layer-by-layer debugging. */
  readonly keepBlocks?: boolean;
}

export interface TfjsForwardResult {
  /** [n, numClasses] */
  readonly logits: Float32Array;
  /** Globally pooled head activations (after BN and the head's activation), [n, headChannels]. */
  readonly features: Float32Array;
  /** Block name (`blocks.{stage}.{i}`) -> its output, [n, c, h, w]; only with `keepBlocks`. */
  readonly blocks?: Map<string, Float32Array>;
}

/** Reads tensors out of the file as tfjs tensors in their PyTorch layout. */
class WeightSource {
  constructor(private readonly file: SafetensorsFile) {}

  /** Any tensor, in its stored (PyTorch) shape. */
  raw(name: string): tf.Tensor {
    const entry = this.file.tensors.get(name)!;
    return tf.tensor(this.values(name), entry.shape as number[]);
  }

  /**
   * A tensor's values: a view on the file for aligned F32 data (tfjs never writes to its inputs,
   * and copying L2's 1.9 GB on every forward pass would cost seconds), a decoded copy otherwise.
   * The view, like the project's reader, assumes a little-endian host.
   */
  private values(name: string): Float32Array {
    const entry = this.file.tensors.get(name)!;
    const offset = this.file.bytes.byteOffset + entry.begin;
    if (entry.dtype === 'F32' && offset % 4 === 0) {
      return new Float32Array(this.file.bytes.buffer, offset, (entry.end - entry.begin) / 4);
    }
    return readTensorAsFloat32(this.file, name);
  }

  /** A dense kxk conv weight `[out, in, kh, kw]` as tfjs wants it: `[kh, kw, in, out]`. */
  conv(name: string): tf.Tensor4D {
    return tf.transpose(this.raw(`${name}.weight`), [2, 3, 1, 0]) as tf.Tensor4D;
  }

  /** A depthwise weight `[c, 1, kh, kw]` as tfjs wants it: `[kh, kw, c, 1]`. */
  depthwise(name: string): tf.Tensor4D {
    return tf.transpose(this.raw(`${name}.weight`), [2, 3, 0, 1]) as tf.Tensor4D;
  }

  /** A 1x1 conv or a linear layer as `[out, in]`, the PyTorch layout with the unit dims dropped. */
  matrix(name: string): tf.Tensor2D {
    const weight = this.raw(`${name}.weight`);
    return tf.reshape(weight, [weight.shape[0], -1]);
  }
}

/** Checks every tensor the network needs is in the file with its timm shape, before any maths. */
function checkWeights(network: NetworkSpec, file: SafetensorsFile): void {
  for (const spec of expectedTensors(network)) {
    const entry = file.tensors.get(spec.name);
    if (entry === undefined) throw new WeightsMismatchError(`tensor "${spec.name}" is missing from the weights file`);
    if (entry.shape.join(',') !== spec.shape.join(',')) {
      throw new WeightsMismatchError(`tensor "${spec.name}" has shape [${entry.shape}], expected [${spec.shape}]`);
    }
  }
}

/** A kxk conv (dense or depthwise) with the checkpoint family's padding; x is [n, h, w, c]. */
function spatialConv(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, padding: TfjsPadding, depthwise: boolean): tf.Tensor4D {
  const run = (input: tf.Tensor4D, pad: 'same' | 'valid'): tf.Tensor4D =>
    depthwise ? tf.depthwiseConv2d(input, filter, stride, pad) : tf.conv2d(input, filter, stride, pad);
  // tfjs 'same' is TensorFlow's rule: total = max((ceil(H/s) - 1) * s + k - H, 0), the odd pixel after.
  if (padding === 'same') return run(x, 'same');
  const pad = Math.floor(filter.shape[0] / 2);
  return run(tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]), 'valid');
}

/**
 * A 1x1 conv as a matrix product, x [n, h, w, in] times W^T for W [out, in]. Multiplying by the
 * transposed PyTorch matrix avoids re-laying out the weights, which in the tfjs CPU backend cost
 * more than the convolutions themselves (L2 has 1.9 GB of them).
 */
function pointwise(x: tf.Tensor4D, weights: WeightSource, name: string): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const matrix = weights.matrix(name); // [out, in]
  const y = tf.matMul(tf.reshape(x, [n * h * w, c]), matrix, false, true); // [n*h*w, out]
  return tf.reshape(y, [n, h, w, matrix.shape[0]]);
}

const swish = <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.sigmoid(x));

/** The activation a block or the stem/head names, with stock tfjs ops (tf.relu6 is min(max(x, 0), 6)). */
function activate(x: tf.Tensor4D, activation: 'swish' | 'relu6' | 'relu'): tf.Tensor4D {
  if (activation === 'swish') return swish(x);
  return activation === 'relu6' ? tf.relu6(x) : tf.relu(x);
}

/** Inference BN with the file's running statistics, unfolded; x is [n, h, w, c]. */
function batchNorm(x: tf.Tensor4D, weights: WeightSource, name: string, eps: number): tf.Tensor4D {
  return tf.batchNorm(
    x,
    weights.raw(`${name}.running_mean`) as tf.Tensor1D,
    weights.raw(`${name}.running_var`) as tf.Tensor1D,
    weights.raw(`${name}.bias`) as tf.Tensor1D,
    weights.raw(`${name}.weight`) as tf.Tensor1D,
    eps,
  );
}

/** y = x W^T + b for x [n, in], W [out, in]. */
function linear(x: tf.Tensor2D, weights: WeightSource, name: string): tf.Tensor2D {
  return tf.add(tf.matMul(x, weights.matrix(name), false, true), weights.raw(`${name}.bias`));
}

/** Squeeze-and-excitation: per-channel gates from the pooled map; x is [n, h, w, c]. */
function squeezeExcite(x: tf.Tensor4D, weights: WeightSource, prefix: string): tf.Tensor4D {
  const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D; // [n, c]
  const squeezed = swish(linear(pooled, weights, `${prefix}.se.conv_reduce`)); // [n, se]
  const gates = tf.sigmoid(linear(squeezed, weights, `${prefix}.se.conv_expand`)); // [n, c]
  return tf.mul(x, tf.reshape(gates, [x.shape[0], 1, 1, x.shape[3]]));
}

/**
 * One block, written out per kind with timm's module names (EfficientNet's DS and MBConv blocks,
 * EfficientNetV2's ConvBnAct and EdgeResidual blocks): nothing here is shared with the project's
 * own walk of the block list.
 */
function blockForward(x: tf.Tensor4D, block: BlockSpec, weights: WeightSource, options: TfjsForwardOptions): tf.Tensor4D {
  const p = block.name;
  const eps = options.bnEps;
  const act = (t: tf.Tensor4D): tf.Tensor4D => activate(t, block.activation);
  const se = (t: tf.Tensor4D): tf.Tensor4D => (block.seChannels > 0 ? squeezeExcite(t, weights, p) : t);
  let y = x; // [n, h, w, c]
  switch (block.kind) {
    case 'conv-bn-act':
      y = act(batchNorm(spatialConv(y, weights.conv(`${p}.conv`), block.stride, options.padding, false), weights, `${p}.bn1`, eps));
      break;
    case 'depthwise-separable':
      y = act(batchNorm(spatialConv(y, weights.depthwise(`${p}.conv_dw`), block.stride, options.padding, true), weights, `${p}.bn1`, eps));
      y = batchNorm(pointwise(se(y), weights, `${p}.conv_pw`), weights, `${p}.bn2`, eps);
      break;
    case 'fused-mbconv':
      y = act(batchNorm(spatialConv(y, weights.conv(`${p}.conv_exp`), block.stride, options.padding, false), weights, `${p}.bn1`, eps));
      y = batchNorm(pointwise(se(y), weights, `${p}.conv_pwl`), weights, `${p}.bn2`, eps);
      break;
    case 'mbconv':
      y = act(batchNorm(pointwise(y, weights, `${p}.conv_pw`), weights, `${p}.bn1`, eps));
      y = act(batchNorm(spatialConv(y, weights.depthwise(`${p}.conv_dw`), block.stride, options.padding, true), weights, `${p}.bn2`, eps));
      y = batchNorm(pointwise(se(y), weights, `${p}.conv_pwl`), weights, `${p}.bn3`, eps);
      break;
  }
  return block.residual ? tf.add(x, y) : y;
}

const toNchw = (x: tf.Tensor4D): Float32Array => tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array);

/**
 * Runs the network on `input` ([n, 3, h, w], NCHW float32, already preprocessed) and returns
 * logits and pooled features. Work is done block by block inside `tf.tidy`, so at most one
 * block's weights and activations are alive at a time; L2 needs little beyond its weights file.
 */
export async function tfjsForward(
  network: NetworkSpec,
  file: SafetensorsFile,
  input: Float32Array,
  shape: readonly [number, number, number, number],
  options: TfjsForwardOptions,
): Promise<TfjsForwardResult> {
  const [n, channels, h, w] = shape;
  if (channels !== 3 || input.length !== n * channels * h * w) {
    throw new InputShapeError(`input of ${input.length} values does not fit shape [${shape}]; expected [n, 3, h, w]`);
  }
  checkWeights(network, file);
  await tf.setBackend('cpu');
  await tf.ready();
  const weights = new WeightSource(file);
  const eps = options.bnEps;

  let x = tf.tidy(() => {
    const image = tf.transpose(tf.tensor4d(input, [n, channels, h, w]), [0, 2, 3, 1]) as tf.Tensor4D; // [n, h, w, 3]
    const stem = spatialConv(image, weights.conv('conv_stem'), network.stem.stride, options.padding, false);
    return activate(batchNorm(stem, weights, 'bn1', eps), network.stem.activation);
  });
  const blocks = options.keepBlocks ? new Map<string, Float32Array>() : undefined;
  for (const block of network.blocks) {
    const next = tf.tidy(() => blockForward(x, block, weights, options));
    x.dispose();
    x = next;
    blocks?.set(block.name, toNchw(x));
  }
  const [features, logits] = tf.tidy(() => {
    const head = activate(batchNorm(pointwise(x, weights, 'conv_head'), weights, 'bn2', eps), network.head.activation); // [n, h', w', head]
    const pooled = tf.mean(head, [1, 2]) as tf.Tensor2D; // [n, head]
    return [pooled, linear(pooled, weights, 'classifier')]; // [n, head], [n, classes]
  });
  x.dispose();
  const result = { logits: logits.dataSync() as Float32Array, features: features.dataSync() as Float32Array, blocks };
  tf.dispose([features, logits]);
  return result;
}
