/**
 * Worker threads that turn dataset files into network inputs while the network runs on the main
 * thread. Each worker takes one file at a time; files wait in a queue for the next idle worker.
 */
import { Worker } from 'node:worker_threads';
import type { DecodeReply, DecodeRequest, DecodeSettings } from './decode-protocol.js';

export type DecodeOutcome =
  /** tensor: `[3, size, size]` float32. */
  | { readonly ok: true; readonly tensor: Float32Array }
  | { readonly ok: false; readonly error: string; readonly code: string };

interface Job {
  readonly id: number;
  readonly path: string;
  readonly resolve: (outcome: DecodeOutcome) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | null;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 0;
  private failure: Error | null = null;

  constructor(count: number, settings: DecodeSettings) {
    // Workers refuse some inherited flags (see runtime/threads/endpoint.ts); the rest carry over.
    const execArgv = process.execArgv.filter((flag) => !/^--(input-type|experimental-wasm-|wasm-)/.test(flag));
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL('./decode-worker.js', import.meta.url), { execArgv });
      const slot: Slot = { worker, job: null };
      worker.postMessage({ kind: 'settings', settings } satisfies DecodeRequest);
      worker.on('message', (reply: DecodeReply) => this.finish(slot, reply));
      const die = (error: Error): void => this.fail(new Error(`a decode worker stopped: ${error.message}`));
      worker.on('error', die);
      worker.on('exit', (code) => { if (this.slots.length > 0) die(new Error(`exit code ${code}`)); });
      this.slots.push(slot);
    }
  }

  decode(path: string): Promise<DecodeOutcome> {
    return new Promise<DecodeOutcome>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.waiting.push({ id: this.nextId++, path, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job !== null) continue;
      const job = this.waiting.shift();
      if (job === undefined) return;
      slot.job = job;
      slot.worker.postMessage({ kind: 'decode', id: job.id, path: job.path } satisfies DecodeRequest);
    }
  }

  private finish(slot: Slot, reply: DecodeReply): void {
    const job = slot.job;
    slot.job = null;
    if (job === null || job.id !== reply.id) return this.fail(new Error('a decode worker answered a request it was not given'));
    job.resolve(reply.ok ? { ok: true, tensor: reply.tensor } : { ok: false, error: reply.error, code: reply.code });
    this.dispatch();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const job of [...this.waiting.splice(0), ...this.slots.map((s) => s.job).filter((j): j is Job => j !== null)]) job.reject(error);
  }
}
