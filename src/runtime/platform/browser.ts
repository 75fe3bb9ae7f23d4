/**
 * Browsers (and any engine without Node's built-ins): Web Workers, `navigator`, no file system.
 * Nothing here imports a `node:` module, so bundlers can use this file for browser builds.
 */
import type { HostMessage, WorkerReply } from '../threads/protocol.js';
import type { HostPort, Platform, WorkerHandle } from './types.js';

export const platform: Platform = {
  isNode: false,

  readFile(where) {
    return Promise.reject(new Error(`cannot read the local file ${where.toString()} outside Node; give a URL or the bytes`));
  },

  logicalCores() {
    const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
    return Promise.resolve(Number.isInteger(cores) && cores! > 0 ? cores! : 1);
  },

  spawnWorker(): Promise<WorkerHandle> {
    // The literal `new Worker(new URL('...', import.meta.url), { type: 'module' })` is the form
    // Vite, webpack and Parcel recognise, bundle as a worker and rewrite to its address.
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    return Promise.resolve({
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
    });
  },

  hostPort(): Promise<HostPort> {
    const scope = globalThis as unknown as {
      onmessage: ((event: MessageEvent<HostMessage>) => void) | null;
      postMessage(message: WorkerReply): void;
    };
    return Promise.resolve({
      listen: (onMessage) => void (scope.onmessage = (event) => onMessage(event.data)),
      reply: (reply) => scope.postMessage(reply),
    });
  },
};
