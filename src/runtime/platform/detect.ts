/**
 * The platform this code runs on: Node's implementation in Node, else the browser one.
 *
 * Node's built-ins are only ever imported dynamically, and only on the Node path, so a browser
 * that loads this file unbundled (the demo page does) never fetches one. Bundlers building for
 * browsers do not even see them: the package.json `browser` map replaces this file with
 * `browser.js`, which has the same `platform` export.
 */
import { platform as browserPlatform } from './browser.js';
import type { Platform } from './types.js';

const runningInNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Node worker_threads, wrapped into the shape both platforms share. */
const nodePlatform: Platform = {
  isNode: true,

  async readFile(where) {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(where));
  },

  async logicalCores() {
    const { availableParallelism } = await import('node:os');
    return availableParallelism();
  },

  async spawnWorker() {
    const { Worker } = await import('node:worker_threads');
    // Workers inherit the process's Node flags, but refuse two kinds: `--input-type` (set when
    // the host script came from `node -e` or stdin) for a file entry, and V8's WebAssembly
    // flags such as --experimental-wasm-relaxed-simd, which are per process and so already
    // apply to the worker.
    const execArgv = process.execArgv.filter((flag) => !/^--(input-type|experimental-wasm-|wasm-)/.test(flag));
    const worker = new Worker(new URL('../threads/worker.js', import.meta.url), { execArgv });
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
  },

  async hostPort() {
    const { parentPort: port } = await import('node:worker_threads');
    if (port === null) throw new Error('worker.js must run in a worker thread');
    return {
      listen: (onMessage) => void port.on('message', onMessage),
      reply: (reply) => port.postMessage(reply),
    };
  },
};

export const platform: Platform = runningInNode ? nodePlatform : browserPlatform;
