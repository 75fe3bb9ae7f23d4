/**
 * A decode worker of the dataset pipeline (`decode-pool.ts` starts it): reads, decodes and
 * preprocesses one file per request on its own core instance, and transfers the tensor back.
 */
import { parentPort } from 'node:worker_threads';
import { createPreprocessor, type Preprocessor } from '../image/preprocess.js';
import type { DecodeReply, DecodeRequest, DecodeSettings } from './decode-protocol.js';
import { describeFailure, loadTensor } from './read-image.js';

if (parentPort === null) throw new Error('decode-worker.js must run in a worker thread');
const port = parentPort;
let settings: DecodeSettings | null = null;
const preprocessor: Promise<Preprocessor> = createPreprocessor();

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
      const values = await loadTensor(request.path, settings!, await preprocessor);
      const reused = spare.pop();
      const tensor = reused !== undefined && reused.byteLength === values.byteLength ? new Float32Array(reused) : new Float32Array(values.length); // [3, size, size]
      tensor.set(values);
      reply = { id: request.id, ok: true, tensor };
    } catch (error) {
      reply = { id: request.id, ok: false, ...describeFailure(error) };
    }
    port.postMessage(reply, reply.ok ? [reply.tensor.buffer as ArrayBuffer] : []);
  });
});
