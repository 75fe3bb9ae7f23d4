/**
 * A decode worker of the dataset pipeline and the HTTP server (`decode-pool.ts` starts it): reads,
 * decodes and preprocesses one file (or one upload's bytes) per request on its own core instance,
 * and transfers the tensor back.
 */
import { parentPort } from 'node:worker_threads';
import { decodeImage } from '../image/decode.js';
import { createPreprocessor, type Preprocessor } from '../image/preprocess.js';
import type { DecodeReply, DecodeRequest, DecodeSettings } from './decode-protocol.js';
import { describeFailure, loadTensor } from './read-image.js';

if (parentPort === null) throw new Error('decode-worker.js must run in a worker thread');
const port = parentPort;
let settings: DecodeSettings | null = null;
const preprocessor: Promise<Preprocessor> = createPreprocessor();

/** `[3, size, size]` float32 for one image's bytes, or a typed error (the same steps as a file's, without the read). */
async function bytesTensor(bytes: Uint8Array, options: DecodeSettings, images: Preprocessor): Promise<Float32Array> {
  const image = await decodeImage(bytes, { maxPixels: options.maxPixels, applyOrientation: options.applyOrientation });
  return images.preprocess(image, options.recipe);
}

// Requests are handled one at a time, in arrival order (the pool may queue several here), so a
// chain keeps this thread's core instance and codecs single-use.
let chain: Promise<void> = Promise.resolve();
// Tensor buffers circulate between this thread and the main one instead of being allocated for
// every image on one thread and freed on another, which made the process's memory creep up as
// the allocator held on to what the other thread freed.
const spare: ArrayBuffer[] = [];
port.on('message', (request: DecodeRequest) => {
  if (request.kind === 'settings') {
    settings = request.settings;
    return;
  }
  if (request.kind === 'recycle') {
    spare.push(request.buffer);
    return;
  }
  chain = chain.then(async () => {
    let reply: DecodeReply;
    try {
      const values = request.kind === 'decode'
        ? await loadTensor(request.path, settings!, await preprocessor)
        : await bytesTensor(request.bytes, settings!, await preprocessor);
      const reused = spare.pop();
      const tensor = reused !== undefined && reused.byteLength === values.byteLength ? new Float32Array(reused) : new Float32Array(values.length); // [3, size, size]
      tensor.set(values);
      reply = { id: request.id, ok: true, tensor };
    } catch (error) {
      reply = { id: request.id, ok: false, ...describeFailure(error), type: error instanceof Error ? error.name : 'Error' };
    }
    port.postMessage(reply, reply.ok ? [reply.tensor.buffer as ArrayBuffer] : []);
  });
});
