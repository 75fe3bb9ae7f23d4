/**
 * The model's thread: builds the model from the options it was started with, then runs each
 * batch it is sent, one after another, and posts back probabilities and pooled features.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadModelWithDigest } from '../cli/load-model.js';
import type { EfficientNet } from '../efficientnet.js';
import { describeError, type FromModel, type ModelWorkerOptions, type ToModel } from './model-protocol.js';

const port = parentPort!;
const post = (message: FromModel, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function start(options: ModelWorkerOptions): Promise<EfficientNet> {
  // The loader every command uses: any weights format, read by range, and its digest for /v1/model.
  const { net, weightsSha256 } = await loadModelWithDigest(options.request, { threads: options.threads, simd: options.simd, labels: options.labels });
  post({
    kind: 'ready',
    info: {
      model: options.request.label, variant: net.network.name, preset: net.preset, recipe: net.recipe, numClasses: net.numClasses, labels: net.labels,
      featureChannels: net.featureChannels, synthetic: net.synthetic, weightsSha256, threading: net.threading, simd: net.simd,
    },
  });
  return net;
}

/** A copy that owns its buffer, so it can be transferred rather than cloned. */
const owned = (values: Float32Array): Float32Array => (values.byteOffset === 0 && values.length * 4 === values.buffer.byteLength ? values : values.slice());

try {
  const net = await start(workerData as ModelWorkerOptions);
  // The batch buffer shared with the main thread: written there, read here, never sent per batch.
  let input: Float32Array = new Float32Array(0); // [maxBatch, 3, size, size]
  port.on('message', async (message: ToModel) => {
    if (message.kind === 'close') {
      net.dispose();
      port.close();
      return;
    }
    if (message.kind === 'input') {
      input = new Float32Array(message.buffer);
      return;
    }
    const size = net.recipe.size;
    try {
      const batch = input.subarray(0, message.count * 3 * size * size); // [count, 3, size, size]
      const result = await net.forward(batch, [message.count, 3, size, size], { probabilities: true });
      const probabilities = owned(result.probabilities!);
      const features = owned(result.features);
      post({ kind: 'result', id: message.id, probabilities, features }, [probabilities.buffer as ArrayBuffer, features.buffer as ArrayBuffer]);
    } catch (error) {
      post({ kind: 'run-failed', id: message.id, error: describeError(error) });
    }
  });
} catch (error) {
  post({ kind: 'failed', error: describeError(error) });
}
