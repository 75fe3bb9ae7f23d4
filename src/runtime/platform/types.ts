/**
 * What the library needs from its host that differs between Node and browsers: reading a file,
 * counting cores, and the two ends of a worker thread. `detect.ts` picks the implementation at
 * run time; bundlers building for browsers swap `detect.js` for `browser.js` (the package.json
 * `browser` map), so no `node:` module ever reaches a browser bundle, not even by dynamic import.
 */
import type { HostMessage, WorkerReply } from '../threads/protocol.js';

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

export interface Platform {
  /** True in Node: file paths are paths on disk, and the main thread may block. */
  readonly isNode: boolean;
  /** The bytes of a local file (a path or a file: URL). Only Node can; browsers throw. */
  readFile(where: string | URL): Promise<Uint8Array<ArrayBuffer>>;
  /** The logical cores the engine reports. */
  logicalCores(): Promise<number>;
  /** Starts the pool's worker script (`threads/worker.js`) in a new thread. */
  spawnWorker(): Promise<WorkerHandle>;
  /** Inside a worker: the channel to the thread that started it. */
  hostPort(): Promise<HostPort>;
}
