/**
 * Worker threads that turn dataset files (or, for the HTTP server, uploads' bytes) into network
 * inputs while the network runs on another thread. Files are handed out as soon as they are asked
 * for, each to the worker with the fewest outstanding, and every worker works through its own
 * queue in order: the main thread is busy (and cannot hand out work) while a batch runs, so a
 * worker that waited to be given its next file would sit idle for most of each batch. How many
 * files are outstanding at once is the caller's look-ahead.
 */
import { Worker } from 'node:worker_threads';
import type { DecodeReply, DecodeRequest, DecodeSettings } from './decode-protocol.js';

export type DecodeOutcome =
  /** tensor: `[3, size, size]` float32. */
  | { readonly ok: true; readonly tensor: Float32Array }
  /** type: the typed error's class name; code and message as errors.jsonl records them. */
  | { readonly ok: false; readonly error: string; readonly code: string; readonly type: string };

interface Job {
  readonly id: number;
  /** The shared slot the worker writes the tensor into, if any. */
  readonly slot?: number;
  readonly resolve: (outcome: DecodeOutcome) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Outstanding requests by id, in the order the worker will answer them. */
  readonly jobs: Map<number, Job>;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private nextRecycle = 0;
  private failure: Error | null = null;
  private failureListeners: ((error: Error) => void)[] = [];
  /** Shared output slots, by index: `[3, size, size]` float32 each. */
  private readonly slotViews: Float32Array[] = [];

  constructor(count: number, settings: DecodeSettings) {
    // Workers refuse some inherited flags (see runtime/threads/endpoint.ts); the rest carry over.
    const execArgv = process.execArgv.filter((flag) => !/^--(input-type|experimental-wasm-|wasm-)/.test(flag));
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL('./decode-worker.js', import.meta.url), { execArgv });
      const slot: Slot = { worker, jobs: new Map() };
      worker.postMessage({ kind: 'settings', settings } satisfies DecodeRequest);
      worker.on('message', (reply: DecodeReply) => this.finish(slot, reply));
      const die = (error: Error): void => this.fail(new Error(`a decode worker stopped: ${error.message}`));
      worker.on('error', die);
      worker.on('exit', (code) => { if (this.slots.length > 0) die(new Error(`exit code ${code}`)); });
      this.slots.push(slot);
    }
  }

  /**
   * Calls `listener` once when a worker dies (crash or exit, not `close`), at that moment rather
   * than at the next decode: a server idle when it happens must still stop calling itself healthy.
   */
  onFailure(listener: (error: Error) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  decode(path: string): Promise<DecodeOutcome> {
    return this.send((id) => ({ message: { kind: 'decode', id, path }, transfer: [] }));
  }

  /**
   * Decodes and preprocesses an image held in memory (an upload). The bytes are copied into the
   * worker (not transferred): each thread then frees what it allocated, which keeps glibc's
   * per-thread arenas from holding on to memory freed on the other side.
   */
  decodeBytes(bytes: Uint8Array): Promise<DecodeOutcome> {
    // A view into a larger buffer (e.g. Node's shared pool) would clone all of it, so it is cut to size first.
    const exact = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice(); // [byteLength]
    return this.send((id) => ({ message: { kind: 'decode-bytes', id, bytes: exact }, transfer: [] }));
  }

  /**
   * Registers a shared buffer, `[3, size, size]` float32, with every worker, for
   * `decodeBytesInto`; returns its index. Values written there reach this thread with no buffer
   * created per image, which on a server had made the garbage collector run a full collection
   * every few batches for the external memory passing through.
   */
  addSlot(buffer: SharedArrayBuffer): number {
    const index = this.slotViews.length;
    this.slotViews.push(new Float32Array(buffer));
    for (const slot of this.slots) slot.worker.postMessage({ kind: 'slot', index, buffer } satisfies DecodeRequest);
    return index;
  }

  /** As `decodeBytes`, with the tensor written into the slot `addSlot` returned; the outcome's tensor is that slot's view. */
  decodeBytesInto(bytes: Uint8Array, slot: number): Promise<DecodeOutcome> {
    const exact = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice(); // [byteLength]
    return this.send((id) => ({ message: { kind: 'decode-bytes', id, bytes: exact, slot }, transfer: [] }), slot);
  }

  private send(request: (id: number) => { message: DecodeRequest; transfer: ArrayBuffer[] }, target?: number): Promise<DecodeOutcome> {
    return new Promise<DecodeOutcome>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const slot = this.slots.reduce((best, s) => (s.jobs.size < best.jobs.size ? s : best));
      const job: Job = { id: this.nextId++, slot: target, resolve, reject };
      slot.jobs.set(job.id, job);
      const { message, transfer } = request(job.id);
      slot.worker.postMessage(message, transfer);
    });
  }

  /** Hands a tensor's buffer back to a worker, to be filled again instead of allocating a new one. */
  recycle(tensor: Float32Array): void {
    if (this.failure || this.slots.length === 0) return;
    const buffer = tensor.buffer as ArrayBuffer;
    const slot = this.slots[this.nextRecycle++ % this.slots.length];
    slot.worker.postMessage({ kind: 'recycle', buffer } satisfies DecodeRequest, [buffer]);
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private finish(slot: Slot, reply: DecodeReply): void {
    const job = slot.jobs.get(reply.id);
    if (job === undefined) return this.fail(new Error('a decode worker answered a request it was not given'));
    slot.jobs.delete(reply.id);
    if (!reply.ok) return job.resolve({ ok: false, error: reply.error, code: reply.code, type: reply.type });
    const tensor = reply.tensor ?? (job.slot === undefined ? undefined : this.slotViews[job.slot]);
    if (tensor === undefined) return this.fail(new Error('a decode worker answered without a tensor'));
    job.resolve({ ok: true, tensor });
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const slot of this.slots) {
      for (const job of slot.jobs.values()) job.reject(error);
      slot.jobs.clear();
    }
    const listeners = this.failureListeners;
    this.failureListeners = [];
    for (const listener of listeners) listener(error);
  }
}
