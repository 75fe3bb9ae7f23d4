/**
 * The HTTP routes, on fastify. The server starts answering before the model is loaded (so
 * /healthz and /readyz can say so) and refuses work with 503 while loading or draining.
 *
 * Limits, and where each is enforced:
 * - body size: fastify's bodyLimit on raw bodies (413 as soon as Content-Length or the bytes
 *   read pass it, without buffering the rest) and @fastify/multipart's fileSize and files limits;
 * - upload time: Node's requestTimeout (408 and the connection closed) for a request not fully
 *   received within `timeoutMs`, checked every `connectionsCheckingInterval`;
 * - queue: the batcher's capacity, checked when a request arrives (before its body is read)
 *   and again when its images are ready.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { endianness } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { topPredictions } from '../efficientnet.js';
import { Batcher, QueueFullError, type ImageOutputs } from './batcher.js';
import type { ServeDependencies } from './dependencies.js';
import { BadRequestError, BodyTooLargeError, errorAnswer, UnavailableError, UnsupportedMediaError } from './http-errors.js';
import type { ServerMetrics } from './metrics.js';
import type { ModelHost } from './model-host.js';
import type { UploadDecoder } from './upload-decoder.js';
import { preprocessUploads, RAW_IMAGE_TYPES, readUploads } from './uploads.js';

export interface ServerLimits {
  /** Most images in one batch. */
  readonly maxBatch: number;
  readonly batchWindowMs: number;
  /** Most images waiting for a batch. */
  readonly queue: number;
  readonly maxBodyBytes: number;
  /** Most time a client may take to send a whole request. */
  readonly timeoutMs: number;
  /** Most pixels an image may declare. */
  readonly maxPixels: number;
}

/** What the routes need once the model is loaded. */
export interface LoadedModel {
  readonly host: ModelHost;
  readonly batcher: Batcher;
  /** Decodes and preprocesses uploads off this thread. */
  readonly decoder: UploadDecoder;
}

/** Shared between the routes and the lifecycle in `run.ts`. */
export interface ServerState {
  model: LoadedModel | null;
  draining: boolean;
  /** Why images can no longer be served (the model's or the decoder's thread died), once they cannot. */
  broken: string | null;
  /** Requests admitted whose images are not yet in the queue (being read or decoded). */
  admitted: number;
}

const ROUTES = ['/healthz', '/readyz', '/metrics', '/v1/model', '/v1/classify', '/v1/embed'];

/** Most classes a classify answer may list: all of them, but the query must still be a positive integer. */
function parseTopk(query: unknown, numClasses: number): number {
  const raw = (query as { topk?: unknown } | undefined)?.topk;
  if (raw === undefined) return 5;
  const topk = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(topk) || topk < 1) {
    throw new BadRequestError(`topk must be a positive integer, got "${String(raw)}"`);
  }
  return Math.min(topk, numClasses);
}

/** `[n, k]` float32 rows as little-endian bytes. */
function littleEndianBytes(rows: readonly Float32Array[]): Buffer {
  const width = rows[0].length;
  const bytes = Buffer.alloc(rows.length * width * 4); // [n, width] float32 LE
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (endianness() === 'LE') {
    rows.forEach((row, i) => bytes.set(new Uint8Array(row.buffer, row.byteOffset, row.byteLength), i * width * 4));
  } else {
    rows.forEach((row, i) => row.forEach((value, j) => view.setFloat32((i * width + j) * 4, value, true)));
  }
  return bytes;
}

/** fastify's terse refusals, restated with the limit or the accepted types. */
function explainFastifyError(error: unknown, limits: ServerLimits): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_EMPTY_TYPE') {
    return new UnsupportedMediaError(`send ${RAW_IMAGE_TYPES.join(', ')} or multipart/form-data, not "${String((error as { message?: unknown }).message)}"`);
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') {
    return new BodyTooLargeError(`the upload passes a limit (${limits.maxBodyBytes} bytes per request, ${limits.queue} files): ${(error as Error).message}`);
  }
  return error;
}

const wantsRawFloats = (request: FastifyRequest): boolean => (request.headers.accept ?? '').includes('application/octet-stream');

export async function buildServer(
  deps: ServeDependencies, limits: ServerLimits, state: ServerState, metrics: ServerMetrics,
): Promise<FastifyInstance<Server>> {
  const requestTimeout = limits.timeoutMs;
  const app = deps.fastify({
    logger: false,
    bodyLimit: limits.maxBodyBytes,
    // Answer new requests on kept-alive connections with 503 while closing.
    return503OnClosing: true,
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => createServer({
      requestTimeout,
      headersTimeout: requestTimeout,
      // Node checks the two timeouts above this often (default 30 s, too coarse for short limits).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4))),
    }, handler),
  }) as unknown as FastifyInstance<Server>;

  // Only image bodies and multipart forms; anything else is refused with 415 by fastify.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...RAW_IMAGE_TYPES], { parseAs: 'buffer', bodyLimit: limits.maxBodyBytes }, (_request, body, done) => done(null, body));
  await app.register(deps.multipart, {
    limits: { fileSize: limits.maxBodyBytes, files: Math.max(1, limits.queue), fields: 16, parts: Math.max(1, limits.queue) + 16, headerPairs: 64 },
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body, retryAfterSeconds } = errorAnswer(explainFastifyError(error, limits));
    if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds));
    // A body refused before it was read would otherwise hold the connection open while it drains in.
    if (!request.raw.complete) void reply.header('connection', 'close');
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { type: 'NotFound', message: `no route ${request.method} ${request.url.split('?')[0]}; routes: ${ROUTES.join(', ')}` } });
  });
  app.addHook('onRequest', (_request, reply, done) => {
    metrics.trackInProgress(1);
    reply.raw.once('close', () => metrics.trackInProgress(-1));
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.recordRequest(ROUTES.includes(route) ? route : 'unknown', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  const available = (): LoadedModel => {
    if (state.draining) throw new UnavailableError('the server is shutting down; retry on another replica');
    if (state.broken !== null) throw new UnavailableError(`this replica cannot take images (${state.broken}); retry on another one`);
    if (state.model === null) throw new UnavailableError('the model is still loading; retry shortly');
    return state.model;
  };

  // Refuse work before reading a body that could not be queued anyway.
  const admit = async (): Promise<void> => {
    const model = available();
    if (state.admitted >= model.batcher.room) {
      const wait = model.batcher.retryAfterSeconds(state.admitted);
      throw new QueueFullError(`${limits.queue} images are already waiting or on their way; retry in about ${wait} s`, wait);
    }
  };

  app.get('/healthz', async (_request, reply) => {
    if (state.broken !== null) return reply.code(503).send({ status: 'broken', reason: state.broken });
    return { status: 'alive' };
  });
  app.get('/readyz', async (_request, reply) => {
    const status = state.draining ? 'draining' : state.broken !== null ? 'broken' : state.model === null ? 'loading' : 'ready';
    return reply.code(status === 'ready' ? 200 : 503).send({ status });
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()));
  app.get('/v1/model', async () => {
    const { info } = available().host;
    return {
      model: info.model, variant: info.variant, preset: info.preset, preprocessing: info.recipe, classes: info.numClasses,
      featureChannels: info.featureChannels, synthetic: info.synthetic, weightsSha256: info.weightsSha256,
      threads: info.threading.threads, simd: info.simd.mode,
    };
  });

  /** Reads, preprocesses and queues one request's images; the images' outputs in upload order. */
  const infer = async (request: FastifyRequest, reply: FastifyReply): Promise<{ outputs: ImageOutputs[]; multipart: boolean }> => {
    const model = available();
    // A client that leaves (mid-upload or while waiting) aborts this: its images leave the queue.
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    state.admitted++;
    let admitted = true;
    try {
      const uploads = await readUploads(request, limits.maxBodyBytes);
      const inputs = await preprocessUploads(uploads, model.decoder, abort.signal);
      state.admitted--;
      admitted = false;
      try {
        const outputs = await model.batcher.submit(inputs, abort.signal);
        return { outputs, multipart: uploads.multipart };
      } finally {
        // Copied into their batch, or dropped: either way their buffers can be filled again.
        for (const input of inputs) model.decoder.recycle(input);
      }
    } finally {
      if (admitted) state.admitted--;
    }
  };

  app.post('/v1/classify', { onRequest: admit }, async (request, reply) => {
    const { info } = available().host;
    const topk = parseTopk(request.query, info.numClasses);
    const { outputs, multipart } = await infer(request, reply);
    if (wantsRawFloats(request)) {
      return reply.type('application/octet-stream').header('x-tensor-shape', `${outputs.length},${info.numClasses}`)
        .send(littleEndianBytes(outputs.map((o) => o.probabilities)));
    }
    // The library's ranking, without its per-prediction `synthetic` flag: the answer says it once.
    const tops = outputs.map((o) => topPredictions(o.probabilities, topk, info.synthetic, info.labels).map(({ index, label, probability }) => ({ index, label, probability })));
    return { top: multipart ? tops : tops[0], model: info.model, synthetic: info.synthetic };
  });
  app.post('/v1/embed', { onRequest: admit }, async (request, reply) => {
    const { info } = available().host;
    const { outputs, multipart } = await infer(request, reply);
    if (wantsRawFloats(request)) {
      return reply.type('application/octet-stream').header('x-tensor-shape', `${outputs.length},${info.featureChannels}`)
        .send(littleEndianBytes(outputs.map((o) => o.features)));
    }
    const embeddings = outputs.map((o) => Array.from(o.features));
    return { embedding: multipart ? embeddings : embeddings[0] };
  });
  return app;
}
