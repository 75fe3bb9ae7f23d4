/**
 * The main thread's handle on the model's thread: start it, send it batches, stop it.
 */
import { Worker } from 'node:worker_threads';
import { EfficientNetError } from '../errors.js';
import type { ErrorDescription, FromModel, ModelInfo, ModelWorkerOptions, ToModel } from './model-protocol.js';

/** A failure inside the model's thread, re-raised here with its original type name and code. */
export class ModelThreadError extends EfficientNetError {
  override readonly code: string;
  constructor(error: ErrorDescription) {
    super(error.message);
    this.name = error.type;
    this.code = error.code;
  }
}

/** The model's thread died (a crash, not `close`): this server can no longer run images. */
export class ModelStoppedError extends EfficientNetError {
  override readonly code: string = 'MODEL_STOPPED';
}

export interface BatchOutputs {
  readonly probabilities: Float32Array; // [count, numClasses]
  readonly features: Float32Array; // [count, featureChannels]
  /** The run's input, handed back for reuse when it was transferred rather than shared (its buffer may be longer than the view). */
  readonly input?: Float32Array; // [count, 3, size, size]
}

interface PendingRun {
  readonly resolve: (outputs: BatchOutputs) => void;
  readonly reject: (error: Error) => void;
}

export class ModelHost {
  private nextId = 0;
  private readonly pending = new Map<number, PendingRun>();
  private death: Error | null = null;
  private closing = false;
  private deathListeners: ((error: Error) => void)[] = [];

  private constructor(private readonly worker: Worker, readonly info: ModelInfo) {
    worker.on('message', (message: FromModel) => {
      if (message.kind !== 'result' && message.kind !== 'run-failed') return;
      const run = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.kind === 'result') run?.resolve({ probabilities: message.probabilities, features: message.features });
      else run?.reject(new ModelThreadError(message.error));
    });
    const fail = (error: Error): void => {
      if (this.death !== null) return;
      this.death = error;
      for (const run of this.pending.values()) run.reject(error);
      this.pending.clear();
      if (!this.closing) for (const listener of this.deathListeners) listener(error);
    };
    worker.on('error', (error) => fail(new ModelStoppedError(`the model's thread stopped: ${error.message}`)));
    worker.on('exit', (code) => fail(new ModelStoppedError(`the model's thread exited with code ${code}`)));
  }

  /** Starts the thread and resolves once the model is built, or rejects with the error that stopped it. */
  static start(options: ModelWorkerOptions): Promise<ModelHost> {
    // Workers refuse `--input-type`, and V8's wasm flags are per process, so they are not passed on.
    const execArgv = process.execArgv.filter((flag) => !/^--(input-type|experimental-wasm-|wasm-)/.test(flag));
    const worker = new Worker(new URL('./model-worker.js', import.meta.url), { workerData: options, execArgv });
    return new Promise<ModelHost>((resolve, reject) => {
      const onMessage = (message: FromModel): void => {
        if (message.kind === 'ready') {
          cleanup();
          resolve(new ModelHost(worker, message.info));
        } else if (message.kind === 'failed') {
          cleanup();
          void worker.terminate();
          reject(new ModelThreadError(message.error));
        }
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`the model's thread exited with code ${code} while loading`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  /**
   * The batch buffer, `[images, 3, size, size]` float32, in memory shared with the model's thread
   * (made once, before the first run): batches are written there, and no buffer crosses between
   * the threads per batch. Sending one each way per batch had the garbage collector run full
   * collections for the external memory passing through.
   */
  shareInput(images: number, imageLength: number): Float32Array {
    const buffer = new SharedArrayBuffer(images * imageLength * 4); // [images, 3, size, size] f32
    const message: ToModel = { kind: 'input', buffer };
    this.worker.postMessage(message);
    return new Float32Array(buffer);
  }

  /**
   * Runs the first `count` images of the shared input (`shareInput`) as one batch. The caller
   * must not write there again until the returned promise settles.
   */
  run(count: number): Promise<BatchOutputs> {
    if (this.death) return Promise.reject(this.death);
    const id = this.nextId++;
    return new Promise<BatchOutputs>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const message: ToModel = { kind: 'run', id, count };
      this.worker.postMessage(message);
    });
  }

  /** Calls `listener` if the thread dies (a crash, not `close`): runs then fail with this error. */
  onDeath(listener: (error: Error) => void): void {
    this.deathListeners.push(listener);
  }

  /** Frees the model and ends its thread. */
  async close(): Promise<void> {
    if (this.death !== null) return;
    this.closing = true;
    const message: ToModel = { kind: 'close' };
    this.worker.postMessage(message);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), 5000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
