/**
 * The peer: the same EfficientNet, same weights, on TensorFlow.js's WASM backend (XNNPACK),
 * built the way a graph converter would leave it: BN folded, bias fused into each conv and
 * matmul, weights uploaded once. Only the bench and its cross-check test use this.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { NetworkSpec } from '../../src/arch/network.js';
import type { PaddingMode } from '../../src/arch/padding.js';
import type { SafetensorsFile } from '../../src/weights/safetensors.js';
import { foldLayer } from '../../src/onnx/fold.js';

export interface TfjsWasmModel {
  /** NCHW float32 `[n, 3, h, w]` in, logits `[n, classes]` out. */
  forward(input: Float32Array, shape: readonly [number, number, number, number]): Float32Array;
  dispose(): void;
}

let initialised: Promise<void> | null = null;

/** Selects the WASM backend once per process, with `threads` XNNPACK threads. */
export function initTfjsWasm(threads = 1): Promise<void> {
  initialised ??= (async () => {
    const require = createRequire(import.meta.url);
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    setThreadsCount(threads);
    await tf.setBackend('wasm');
    await tf.ready();
  })();
  return initialised;
}

export async function buildTfjsWasmModel(network: NetworkSpec, file: SafetensorsFile, padding: PaddingMode, bnEps: number): Promise<TfjsWasmModel> {
  await initTfjsWasm();
  const keep: tf.Tensor[] = [];
  const hold = <T extends tf.Tensor>(t: T): T => (keep.push(t), t);

  // Weights re-laid out for tfjs once: kxk conv [kh, kw, in, out], depthwise [kh, kw, c, 1], 1x1 as [in, out].
  const conv = (name: string, bn: string) => {
    const f = foldLayer(file, name, bn, bnEps);
    const [o, i, kh, kw] = f.shape;
    return { filter: hold(tf.tidy(() => tf.transpose(tf.tensor4d(f.weight, [o, i, kh, kw]), [2, 3, 1, 0]))) as tf.Tensor4D, bias: hold(tf.tensor1d(f.bias)), kernel: kh };
  };
  const depthwise = (name: string, bn: string) => {
    const f = foldLayer(file, name, bn, bnEps);
    const [c, , kh, kw] = f.shape;
    return { filter: hold(tf.tidy(() => tf.transpose(tf.tensor4d(f.weight, [c, 1, kh, kw]), [2, 3, 0, 1]))) as tf.Tensor4D, bias: hold(tf.tensor1d(f.bias)), kernel: kh };
  };
  const matrix = (name: string, bn: string | null) => {
    const f = foldLayer(file, name, bn, bnEps);
    const out = f.shape[0];
    return { weight: hold(tf.tidy(() => tf.transpose(tf.tensor2d(f.weight, [out, f.weight.length / out])))) as tf.Tensor2D, bias: hold(tf.tensor1d(f.bias)) };
  };
  const pad = (kernel: number): 'same' | number => (padding === 'same' ? 'same' : Math.floor(kernel / 2));
  const swish = <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.sigmoid(x));
  const pointwise = (x: tf.Tensor4D, m: { weight: tf.Tensor2D; bias: tf.Tensor1D }): tf.Tensor4D => {
    const [n, h, w, c] = x.shape;
    const y = tf.fused.matMul({ a: tf.reshape(x, [n * h * w, c]), b: m.weight, bias: m.bias });
    return tf.reshape(y, [n, h, w, m.weight.shape[1]]);
  };

  const stem = conv('conv_stem', 'bn1');
  const blocks = network.blocks.map((b) => ({
    spec: b,
    expand: b.kind === 'mbconv' ? matrix(`${b.name}.conv_pw`, `${b.name}.bn1`) : null,
    dw: depthwise(`${b.name}.conv_dw`, b.kind === 'mbconv' ? `${b.name}.bn2` : `${b.name}.bn1`),
    reduce: matrix(`${b.name}.se.conv_reduce`, null),
    seExpand: matrix(`${b.name}.se.conv_expand`, null),
    project: b.kind === 'mbconv' ? matrix(`${b.name}.conv_pwl`, `${b.name}.bn3`) : matrix(`${b.name}.conv_pw`, `${b.name}.bn2`),
  }));
  const head = matrix('conv_head', 'bn2');
  const classifier = matrix('classifier', null);

  return {
    forward(input, shape) {
      const logits = tf.tidy(() => {
        const [n, c, h, w] = shape;
        const image = tf.transpose(tf.tensor4d(input, [n, c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D;
        let x = swish(tf.fused.conv2d({ x: image, filter: stem.filter, strides: 2, pad: pad(stem.kernel), bias: stem.bias })) as tf.Tensor4D;
        for (const b of blocks) {
          const input = x;
          let y = b.expand ? (swish(pointwise(x, b.expand)) as tf.Tensor4D) : x;
          y = swish(tf.fused.depthwiseConv2d({ x: y, filter: b.dw.filter, strides: b.spec.stride, pad: pad(b.dw.kernel), bias: b.dw.bias })) as tf.Tensor4D;
          const pooled = tf.mean(y, [1, 2]) as tf.Tensor2D;
          const squeezed = swish(tf.fused.matMul({ a: pooled, b: b.reduce.weight, bias: b.reduce.bias })) as tf.Tensor2D;
          const gate = tf.fused.matMul({ a: squeezed, b: b.seExpand.weight, bias: b.seExpand.bias, activation: 'sigmoid' });
          y = tf.mul(y, tf.reshape(gate, [y.shape[0], 1, 1, y.shape[3]]));
          y = pointwise(y, b.project);
          x = b.spec.residual ? tf.add(input, y) : y;
        }
        const features = tf.mean(swish(pointwise(x, head)), [1, 2]) as tf.Tensor2D;
        return tf.fused.matMul({ a: features, b: classifier.weight, bias: classifier.bias });
      });
      const data = logits.dataSync() as Float32Array;
      logits.dispose();
      return data;
    },
    dispose() {
      tf.dispose(keep);
    },
  };
}
