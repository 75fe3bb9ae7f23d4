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
  /** The run's input, back from the model's thread for reuse (its buffer may be longer than the view). */
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
      if (message.kind === 'result') run?.resolve({ probabilities: message.probabilities, features: message.features, input: message.input });
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

  /** Runs `count` preprocessed images, `input` NCHW `[count, 3, size, size]`, as one batch; `input`'s whole buffer is transferred. */
  run(input: Float32Array, count: number): Promise<BatchOutputs> {
    if (this.death) return Promise.reject(this.death);
    const id = this.nextId++;
    return new Promise<BatchOutputs>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const message: ToModel = { kind: 'run', id, count, input };
      this.worker.postMessage(message, [input.buffer as ArrayBuffer]);
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
