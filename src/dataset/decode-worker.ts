/**
 * A decode worker of the dataset pipeline and the HTTP server (`decode-pool.ts` starts it): reads,
 * decodes and preprocesses one file (or one upload's bytes) per request on its own core instance,
 * and transfers the tensor back.
 */
import { parentPort } from 'node:worker_threads';
import { decodePixels, type PixelData } from '../image/decode.js';
import { createPreprocessor, type Preprocessor } from '../image/preprocess.js';
import type { DecodeReply, DecodeRequest, DecodeSettings } from './decode-protocol.js';
import { describeFailure, readImageFile } from './read-image.js';

if (parentPort === null) throw new Error('decode-worker.js must run in a worker thread');
const port = parentPort;
let settings: DecodeSettings | null = null;
const preprocessor: Promise<Preprocessor> = createPreprocessor();

/**
 * One file's or one upload's pixels, or a typed error (the bytes of a file are read first): the
 * decoder's RGBA as it is, which the preprocessor reads without a separate pass dropping alpha.
 */
function decodeRequest(request: Extract<DecodeRequest, { id: number }>, options: DecodeSettings): Promise<PixelData> {
  const bytes = request.kind === 'decode' ? readImageFile(request.path) : request.bytes;
  return decodePixels(bytes, { maxPixels: options.maxPixels, applyOrientation: options.applyOrientation });
}

// Requests are handled one at a time, in arrival order (the pool may queue several here), so a
// chain keeps this thread's core instance and codecs single-use.
let chain: Promise<void> = Promise.resolve();
// Tensor buffers circulate between this thread and the main one instead of being allocated for
// every image on one thread and freed on another, which made the process's memory creep up as
// the allocator held on to what the other thread freed.
const spare: ArrayBuffer[] = [];
/** Shared output slots by index (`decode-pool.ts` addSlot): `[3, size, size]` float32 each. */
const slots: Float32Array[] = [];
port.on('message', (request: DecodeRequest) => {
  if (request.kind === 'settings') {
    settings = request.settings;
    return;
  }
  if (request.kind === 'recycle') {
    spare.push(request.buffer);
    return;
  }
  if (request.kind === 'slot') {
    slots[request.index] = new Float32Array(request.buffer);
    return;
  }
  chain = chain.then(async () => {
    let reply: DecodeReply;
    try {
      const image = await decodeRequest(request, settings!);
      const { size } = settings!.recipe;
      const shared = request.kind === 'decode-bytes' && request.slot !== undefined ? slots[request.slot] : undefined;
      const reused = shared === undefined ? spare.pop() : undefined;
      // Preprocessed straight into the buffer that is sent (or shared), not into a new one copied over.
      const tensor = shared ?? (reused !== undefined && reused.byteLength === 3 * size * size * 4 ? new Float32Array(reused) : new Float32Array(3 * size * size)); // [3, size, size]
      (await preprocessor).preprocessInto(image, settings!.recipe, tensor);
      reply = { id: request.id, ok: true, tensor: shared === undefined ? tensor : null };
    } catch (error) {
      reply = { id: request.id, ok: false, ...describeFailure(error), type: error instanceof Error ? error.name : 'Error' };
    }
    port.postMessage(reply, reply.ok && reply.tensor !== null ? [reply.tensor.buffer as ArrayBuffer] : []);
  });
});
