/**
 * The two ends of a worker's message channel, the same shape in Node (worker_threads) and in
 * browsers (Web Workers); `../platform/` holds the two implementations.
 */
import { platform } from '../platform/detect.js';
import type { HostPort, WorkerHandle } from '../platform/types.js';

export type { HostPort, WorkerHandle };

export const isNode = (): boolean => platform.isNode;

/** Starts `worker.js` (this folder's worker entry) in a new thread. */
export function spawnWorker(): Promise<WorkerHandle> {
  return platform.spawnWorker();
}

/** The current worker's channel to its host. */
export function hostPort(): Promise<HostPort> {
  return platform.hostPort();
}
