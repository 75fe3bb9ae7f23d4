/**
 * Dynamic batching: images that arrive within a short window, or while the model is busy, run
 * together as one batch of up to `maxBatch`. Each image is already preprocessed when it enters,
 * so a broken upload fails alone, before it can share a batch. The queue is bounded; a request
 * that would overflow it is refused at once rather than left waiting, with an estimate of when
 * the queue will have drained from the model's measured pace.
 */
import { EfficientNetError } from '../errors.js';
import type { BatchOutputs } from './model-host.js';

/** The queue is full: the server answers 503 with Retry-After. */
export class QueueFullError extends EfficientNetError {
  override readonly code: string = 'QUEUE_FULL';
  /** Whole seconds until the images now ahead should have run. */
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 1) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Retry-After is at least this (HTTP counts whole seconds) and at most this (past it the estimate says little, and a client should not be told to give up). */
export const RETRY_AFTER_BOUNDS = { min: 1, max: 60 } as const;

/**
 * Whole seconds until `imagesAhead` images have run at `secondsPerImage` (null before any batch
 * has been timed: then the least), within RETRY_AFTER_BOUNDS.
 */
export function retryAfterSeconds(imagesAhead: number, secondsPerImage: number | null): number {
  if (secondsPerImage === null) return RETRY_AFTER_BOUNDS.min;
  return Math.min(RETRY_AFTER_BOUNDS.max, Math.max(RETRY_AFTER_BOUNDS.min, Math.ceil(imagesAhead * secondsPerImage)));
}

/**
 * How much of each new batch's seconds per image enters the running estimate: enough to follow a
 * change of load within a few batches, little enough that one slow batch (a page fault, a
 * neighbour's burst) does not swing the advice.
 */
const PACE_WEIGHT = 0.25;

/** The client went away before its images ran; nothing is computed for them. */
export class RequestAbortedError extends EfficientNetError {
  override readonly code: string = 'ABORTED';
}

/** One image's share of a batch's outputs. */
export interface ImageOutputs {
  readonly probabilities: Float32Array; // [numClasses]
  readonly features: Float32Array; // [featureChannels]
}

export interface BatcherOptions {
  /** Most images in one batch. */
  readonly maxBatch: number;
  /** How long the first waiting image may wait for others before its batch starts. */
  readonly windowMs: number;
  /** Most images waiting (not yet running); more are refused with QueueFullError. */
  readonly capacity: number;
  /** Values of one preprocessed image: 3 * size * size. */
  readonly imageLength: number;
  readonly numClasses: number;
  readonly featureChannels: number;
  /** Runs `count` images, NCHW `[count, 3, size, size]`, as one batch (the view may start a longer buffer, which it may take). */
  readonly run: (input: Float32Array, count: number) => Promise<BatchOutputs>;
  /**
   * The batch buffer, `[maxBatch, 3, size, size]`, used for every batch (one the model's thread
   * shares). Without it the batcher makes one, which `run` may take and hand back as `input`.
   */
  readonly input?: Float32Array;
  /** Told about every finished batch (for metrics). */
  readonly onBatch?: (size: number, seconds: number) => void;
  /** The clock, in milliseconds (default `performance.now`); tests pass their own to time batches exactly. */
  readonly now?: () => number;
}

interface Waiting {
  readonly input: Float32Array; // [3, size, size]
  readonly enqueuedAt: number;
  readonly resolve: (outputs: ImageOutputs) => void;
  readonly reject: (error: Error) => void;
}

export class Batcher {
  private waiting: Waiting[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Images in the batch now running. */
  private runningCount = 0;
  /** The batch buffer back from the last run, for the next: `[maxBatch, 3, size, size]`, or null while a run holds it. */
  private spareInput: Float32Array | null = null;
  /** Running estimate of a batch's seconds per image, or null before the first batch. */
  private secondsPerImage: number | null = null;

  private readonly now: () => number;

  constructor(private readonly options: BatcherOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Images waiting for a batch. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Images that a new request may still add. */
  get room(): number {
    return this.options.capacity - this.waiting.length;
  }

  /** Seconds a refused client should wait: the images waiting and running (plus `more` on their way), at the measured pace. */
  retryAfterSeconds(more = 0): number {
    return retryAfterSeconds(this.waiting.length + this.runningCount + more, this.secondsPerImage);
  }

  /**
   * Queues one request's images (each `[3, size, size]`) and resolves with their outputs in
   * order. Refuses all of them if they do not fit; drops those still waiting if `signal` aborts.
   */
  submit(inputs: readonly Float32Array[], signal: AbortSignal): Promise<ImageOutputs[]> {
    // A client that left while its images were read or decoded: its signal aborted before anyone listened.
    if (signal.aborted) return Promise.reject(new RequestAbortedError('the client disconnected'));
    if (inputs.length > this.room) {
      const wait = this.retryAfterSeconds();
      return Promise.reject(new QueueFullError(`the queue holds ${this.options.capacity} images and has room for ${Math.max(0, this.room)}; retry in about ${wait} s`, wait));
    }
    const now = this.now();
    const entries: Waiting[] = [];
    const results = inputs.map((input) => new Promise<ImageOutputs>((resolve, reject) => {
      entries.push({ input, enqueuedAt: now, resolve, reject });
    }));
    this.waiting.push(...entries);
    const onAbort = (): void => {
      const dropped = new Set(entries);
      this.waiting = this.waiting.filter((entry) => !dropped.has(entry));
      for (const entry of entries) entry.reject(new RequestAbortedError('the client disconnected'));
      this.notifyIfIdle();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.schedule();
    return Promise.all(results).finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** Resolves once nothing waits and no batch runs. */
  idle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses every waiting image with `error` and stops the window timer; a running batch still finishes. */
  abandon(error: Error): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const waiting = this.waiting;
    this.waiting = [];
    for (const entry of waiting) entry.reject(error);
    this.notifyIfIdle();
  }

  private schedule(): void {
    if (this.running || this.waiting.length === 0) return;
    const age = this.now() - this.waiting[0].enqueuedAt;
    if (this.waiting.length >= this.options.maxBatch || age >= this.options.windowMs) {
      void this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.options.windowMs - age);
  }

  private async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.options.maxBatch);
    this.running = true;
    this.runningCount = batch.length;
    const { imageLength, numClasses, featureChannels } = this.options;
    // One buffer of the largest batch circulates (only one batch runs at a time); a view holds this batch.
    const buffer = this.options.input ?? this.spareInput ?? new Float32Array(this.options.maxBatch * imageLength); // [maxBatch, 3, size, size]
    this.spareInput = null;
    const input = buffer.subarray(0, batch.length * imageLength); // [n, 3, size, size]
    batch.forEach((entry, i) => input.set(entry.input, i * imageLength));
    const start = this.now();
    try {
      const outputs = await this.options.run(input, batch.length);
      if (this.options.input === undefined && outputs.input !== undefined && outputs.input.buffer.byteLength === buffer.byteLength) {
        this.spareInput = new Float32Array(outputs.input.buffer as ArrayBuffer);
      }
      const seconds = (this.now() - start) / 1000;
      this.secondsPerImage = this.secondsPerImage === null ? seconds / batch.length : this.secondsPerImage + PACE_WEIGHT * (seconds / batch.length - this.secondsPerImage);
      this.options.onBatch?.(batch.length, seconds);
      batch.forEach((entry, i) => entry.resolve({
        probabilities: outputs.probabilities.subarray(i * numClasses, (i + 1) * numClasses),
        features: outputs.features.subarray(i * featureChannels, (i + 1) * featureChannels),
      }));
    } catch (error) {
      for (const entry of batch) entry.reject(error as Error);
    } finally {
      this.running = false;
      this.runningCount = 0;
      this.schedule();
      this.notifyIfIdle();
    }
  }

  private notifyIfIdle(): void {
    if (this.running || this.waiting.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
