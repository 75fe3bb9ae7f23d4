/**
 * The server's life: listen, load the model in its thread, serve, and on SIGTERM or SIGINT drain.
 *
 * Draining: /readyz turns 503 at once (so a load balancer stops sending), the listening socket
 * closes (no new connections), idle kept-alive connections close, and every request already
 * accepted is answered. The process then frees the model and resolves; if the drain takes longer
 * than `drainTimeoutMs`, the remaining connections are cut and the run fails.
 */
import { Batcher } from './batcher.js';
import { loadServeDependencies } from './dependencies.js';
import { createMetrics } from './metrics.js';
import { ModelHost } from './model-host.js';
import type { ModelWorkerOptions } from './model-protocol.js';
import { UnavailableError } from './http-errors.js';
import { buildServer, type ServerLimits, type ServerState } from './server.js';
import { UploadDecoder } from './upload-decoder.js';

export interface ServeOptions extends ServerLimits {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly model: ModelWorkerOptions;
  /** Most time between a shutdown signal and the process giving up on unanswered requests. */
  readonly drainTimeoutMs: number;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * One decode worker: a photo takes a few milliseconds of CPU against tens per image for the
 * model, so one keeps ahead of the batches, and a second would only take more CPU from the
 * model's threads when uploads arrive in bursts.
 */
const DECODE_THREADS = 1;

/** Serves until a shutdown signal and a finished drain. `log` gets one line per event. */
export async function serve(options: ServeOptions, log: (line: string) => void): Promise<void> {
  const deps = await loadServeDependencies();
  const state: ServerState = { model: null, draining: false, broken: null, admitted: 0 };
  const metrics = createMetrics(deps.promClient, options.maxBatch, () => state.model?.batcher.depth ?? 0);
  const app = await buildServer(deps, options, state, metrics);
  const address = await app.listen({ host: options.host, port: options.port });
  log(`listening on ${address} (loading ${options.model.request.label}; /readyz answers 200 once it is loaded)`);

  let signalled!: (signal: string) => void;
  const shutdown = new Promise<string>((resolve) => (signalled = resolve));
  const onSignal = (signal: string): void => {
    if (state.draining) return;
    state.draining = true;
    signalled(signal);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);

  let host: ModelHost | null = null;
  let decoder: UploadDecoder | null = null;
  try {
    const loading = ModelHost.start(options.model);
    const first = await Promise.race([loading.then((h) => ({ host: h })), shutdown.then((signal) => ({ signal }))]);
    if ('signal' in first) {
      log(`${first.signal}: stopping while the model was loading`);
      void loading.then((h) => h.close(), () => undefined);
    } else {
      host = first.host;
      const { info } = host;
      decoder = new UploadDecoder(DECODE_THREADS, info.recipe, options.maxPixels);
      const imageLength = 3 * info.recipe.size * info.recipe.size;
      const sharedInput = host.shareInput(options.maxBatch, imageLength);
      const batcher = new Batcher({
        maxBatch: options.maxBatch, windowMs: options.batchWindowMs, capacity: options.queue,
        imageLength, numClasses: info.numClasses, featureChannels: info.featureChannels, input: sharedInput,
        run: (_input, count) => host!.run(count),
        onBatch: (size, seconds) => metrics.recordBatch(size, seconds),
      });
      host.onDeath((error) => {
        state.broken = error.message;
        log(`${error.message}; /healthz and /readyz now answer 503`);
      });
      decoder.onStopped((error) => {
        state.broken = error.message;
        log(`${error.message}; /healthz and /readyz now answer 503`);
      });
      state.model = { host, batcher, decoder };
      const threads = `${info.threading.threads} thread${info.threading.threads === 1 ? '' : 's'}`;
      log(`ready: ${info.model} (${info.variant}, ${info.recipe.size}px, ${threads}${info.synthetic ? ', SYNTHETIC weights' : ''})`);
      for (const reason of [info.threading.reason, info.simd.reason]) if (reason !== undefined) log(`note: ${reason}`);
      const signal = await shutdown;
      log(`${signal}: draining (readyz 503, no new connections, answering accepted requests)`);
    }
    await drain(app, state, options.drainTimeoutMs);
  } catch (error) {
    await app.close();
    throw error;
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
    // Whatever still waits (after a drain timeout) is refused, so no window timer outlives the server.
    state.model?.batcher.abandon(new UnavailableError('the server stopped before this image ran'));
    await host?.close();
    await decoder?.close();
  }
  log('stopped');
}

/** Closes the server, waiting for accepted requests to be answered, at most `timeoutMs`. */
async function drain(app: Awaited<ReturnType<typeof buildServer>>, state: ServerState, timeoutMs: number): Promise<void> {
  state.draining = true;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
  const closed = app.close().then(() => false as const);
  const expired = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (expired) {
    app.server.closeAllConnections();
    throw new Error(`requests were still unanswered ${timeoutMs} ms after the shutdown signal; their connections were cut`);
  }
}
