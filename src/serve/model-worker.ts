/**
 * The model's thread: builds the model from the options it was started with, then runs each
 * batch it is sent, one after another, and posts back probabilities and pooled features.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { findPreset } from '../arch/presets.js';
import { withFileSource } from '../cli/file-source.js';
import { EfficientNet } from '../efficientnet.js';
import { createSyntheticWeights } from '../weights/synthetic.js';
import { describeError, type FromModel, type ModelWorkerOptions, type ToModel } from './model-protocol.js';

const port = parentPort!;
const post = (message: FromModel, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/** Hex SHA-256 of a file, streamed: a checkpoint is never held whole for it. */
async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function start(options: ModelWorkerOptions): Promise<EfficientNet> {
  const preset = findPreset(options.model);
  const engine = { threads: options.threads, simd: options.simd };
  let net: EfficientNet;
  let weightsSha256: string;
  if (options.weightsPath === null) {
    const weights = createSyntheticWeights({ variant: preset.variant, seed: 0 });
    weightsSha256 = createHash('sha256').update(weights).digest('hex');
    net = await EfficientNet.create({ model: preset.name, weights, labels: options.labels, ...engine });
  } else {
    // The same range-reading file source the other commands load weights through, so every format they read works here.
    net = await withFileSource(options.weightsPath, 'weights', (weights) => EfficientNet.create({ model: preset.name, weights, labels: options.labels, ...engine }));
    weightsSha256 = await fileSha256(options.weightsPath);
  }
  post({
    kind: 'ready',
    info: {
      model: preset.name, variant: net.network.name, preset: net.preset, recipe: net.recipe, numClasses: net.numClasses, labels: net.labels,
      featureChannels: net.featureChannels, synthetic: net.synthetic, weightsSha256, threading: net.threading, simd: net.simd,
    },
  });
  return net;
}

/** A copy that owns its buffer, so it can be transferred rather than cloned. */
const owned = (values: Float32Array): Float32Array => (values.byteOffset === 0 && values.length * 4 === values.buffer.byteLength ? values : values.slice());

try {
  const net = await start(workerData as ModelWorkerOptions);
  port.on('message', async (message: ToModel) => {
    if (message.kind === 'close') {
      net.dispose();
      port.close();
      return;
    }
    const size = net.recipe.size;
    try {
      const result = await net.forward(message.input, [message.count, 3, size, size], { probabilities: true });
      const probabilities = owned(result.probabilities!);
      const features = owned(result.features);
      // The input goes back too: one batch buffer circulates between the threads instead of one
      // being allocated there and freed here for every batch, which let the process's memory creep.
      post({ kind: 'result', id: message.id, probabilities, features, input: message.input }, [
        probabilities.buffer as ArrayBuffer, features.buffer as ArrayBuffer, message.input.buffer as ArrayBuffer,
      ]);
    } catch (error) {
      post({ kind: 'run-failed', id: message.id, error: describeError(error) });
    }
  });
} catch (error) {
  post({ kind: 'failed', error: describeError(error) });
}
