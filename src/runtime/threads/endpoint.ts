/**
 * The two ends of a worker's message channel, the same shape in Node (worker_threads) and in
 * browsers (Web Workers). Node's module is imported dynamically and only in Node, so nothing of
 * it reaches a browser bundle.
 */
import type { HostMessage, WorkerReply } from './protocol.js';

export const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** The host's handle on one worker. */
export interface WorkerHandle {
  post(message: HostMessage): void;
  /** Replies, and the worker's death (an uncaught error or an exit) as an Error. */
  listen(onReply: (reply: WorkerReply) => void, onDeath: (error: Error) => void): void;
  /** Whether an idle worker keeps Node's process alive (no effect in browsers). */
  keepAlive(alive: boolean): void;
  terminate(): void;
}

/** The worker's end: what it receives and how it replies. */
export interface HostPort {
  listen(onMessage: (message: HostMessage) => void): void;
  reply(reply: WorkerReply): void;
}

/** Starts `worker.js` (this folder's worker entry) in a new thread. */
export async function spawnWorker(): Promise<WorkerHandle> {
  if (isNode()) {
    const { Worker } = await import('node:worker_threads');
    // Workers inherit the process's Node flags, but refuse two kinds: `--input-type` (set when
    // the host script came from `node -e` or stdin) for a file entry, and V8's WebAssembly
    // flags such as --experimental-wasm-relaxed-simd, which are per process and so already
    // apply to the worker.
    const execArgv = process.execArgv.filter((flag) => !/^--(input-type|experimental-wasm-|wasm-)/.test(flag));
    const worker = new Worker(new URL('./worker.js', import.meta.url), { execArgv });
    return {
      post: (message) => worker.postMessage(message),
      listen(onReply, onDeath) {
        worker.on('message', onReply);
        worker.on('error', onDeath);
        worker.on('exit', (code) => onDeath(new Error(`the worker exited with code ${code}`)));
      },
      keepAlive: (alive) => (alive ? worker.ref() : worker.unref()),
      terminate: () => void worker.terminate(),
    };
  }
  // The literal `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })` is the
  // form bundlers recognise and rewrite to the bundled worker's address.
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return {
    post: (message) => worker.postMessage(message),
    listen(onReply, onDeath) {
      worker.onmessage = (event: MessageEvent<WorkerReply>) => onReply(event.data);
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        onDeath(new Error(event.message || 'the worker script failed to load'));
      };
      worker.onmessageerror = () => onDeath(new Error('a message from the worker could not be read'));
    },
    keepAlive: () => undefined,
    terminate: () => worker.terminate(),
  };
}

/** The current worker's channel to its host. */
export async function hostPort(): Promise<HostPort> {
  if (isNode()) {
    const { parentPort } = await import('node:worker_threads');
    if (parentPort === null) throw new Error('worker.js must run in a worker thread');
    return {
      listen: (onMessage) => void parentPort.on('message', onMessage),
      reply: (reply) => parentPort.postMessage(reply),
    };
  }
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<HostMessage>) => void) | null;
    postMessage(message: WorkerReply): void;
  };
  return {
    listen: (onMessage) => void (scope.onmessage = (event) => onMessage(event.data)),
    reply: (reply) => scope.postMessage(reply),
  };
}
