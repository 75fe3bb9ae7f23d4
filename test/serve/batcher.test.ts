/**
 * The batcher alone, with a fake model and a fake clock: the Retry-After it advises follows the
 * images ahead and the measured pace, a client that has already left never reaches a batch, the
 * batch buffer is never written while a run reads it, and idle() waits for the running batch.
 */
import { describe, expect, it } from 'vitest';
import { Batcher, QueueFullError, RequestAbortedError, RETRY_AFTER_BOUNDS, retryAfterSeconds } from '../../src/serve/batcher.js';
import type { BatchOutputs } from '../../src/serve/model-host.js';

const IMAGE_LENGTH = 3;
const CLASSES = 2;
const FEATURES = 1;

/** A model whose batches finish when the test says, after the time the test says on the fake clock. */
function fakeModel() {
  const clock = { ms: 0 };
  const runs: { count: number; input: Float32Array; finish: (seconds: number) => void }[] = [];
  const run = (input: Float32Array, count: number): Promise<BatchOutputs> => new Promise((resolve) => {
    runs.push({
      count, input: input.slice(),
      finish: (seconds) => {
        clock.ms += seconds * 1000;
        resolve({ probabilities: new Float32Array(count * CLASSES), features: new Float32Array(count * FEATURES) });
      },
    });
  });
  return { clock, runs, run };
}

/** `count` distinct images of IMAGE_LENGTH values, the first value naming each. */
const images = (first: number, count: number): Float32Array[] => Array.from({ length: count }, (_, i) => new Float32Array(IMAGE_LENGTH).fill(first + i));

/** Lets the batcher's promise chains run (a finished batch schedules the next one). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('retryAfterSeconds', () => {
  it('rounds the time for the images ahead up to whole seconds, within its bounds', () => {
    expect(retryAfterSeconds(0, null)).toBe(RETRY_AFTER_BOUNDS.min);
    expect(retryAfterSeconds(128, null)).toBe(RETRY_AFTER_BOUNDS.min); // nothing timed yet
    expect(retryAfterSeconds(128, 0.04)).toBe(6); // 5.12 s
    expect(retryAfterSeconds(8, 0.125)).toBe(1); // exactly 1 s
    expect(retryAfterSeconds(9, 0.125)).toBe(2); // 1.125 s
    expect(retryAfterSeconds(1, 0.001)).toBe(RETRY_AFTER_BOUNDS.min);
    expect(retryAfterSeconds(10_000, 0.05)).toBe(RETRY_AFTER_BOUNDS.max);
  });
});

describe('Batcher', () => {
  const make = (model: ReturnType<typeof fakeModel>, capacity: number, maxBatch: number): Batcher => new Batcher({
    maxBatch, windowMs: 0, capacity, imageLength: IMAGE_LENGTH, numClasses: CLASSES, featureChannels: FEATURES, run: model.run, now: () => model.clock.ms,
  });

  it('advises Retry-After from the images waiting and running and the pace of the last batches', async () => {
    const model = fakeModel();
    const batcher = make(model, 4, 2);
    const never = new AbortController().signal;
    // Before any batch is timed the advice is the least.
    const first = batcher.submit(images(0, 1), never);
    expect(model.runs).toHaveLength(1);
    model.runs[0].finish(1); // 1 s for one image
    await first;
    const second = batcher.submit(images(10, 2), never); // runs at once: 2 running
    const third = batcher.submit(images(20, 4), never); // fills the queue: 4 waiting
    expect(batcher.depth).toBe(4);
    const refused = await batcher.submit(images(30, 1), never).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(QueueFullError);
    expect((refused as QueueFullError).retryAfterSeconds).toBe(6); // (4 waiting + 2 running) x 1 s
    // 3 s for two images: the pace moves a quarter of the way from 1 to 1.5 s per image, to 1.125 s.
    model.runs[1].finish(3);
    await second;
    await settle();
    expect(model.runs).toHaveLength(3);
    expect(batcher.depth).toBe(2);
    const again = await batcher.submit(images(40, 3), never).catch((error: unknown) => error);
    expect((again as QueueFullError).retryAfterSeconds).toBe(5); // (2 waiting + 2 running) x 1.125 s = 4.5 s
    model.runs[2].finish(1);
    await settle();
    model.runs[3].finish(1);
    await third;
  });

  it('carries every batch in the one buffer the model hands back, sized for the largest batch', async () => {
    const buffers: ArrayBufferLike[] = [];
    const batcher = new Batcher({
      maxBatch: 4, windowMs: 0, capacity: 8, imageLength: IMAGE_LENGTH, numClasses: CLASSES, featureChannels: FEATURES,
      run: async (input, count) => {
        buffers.push(input.buffer);
        expect(input.length).toBe(count * IMAGE_LENGTH);
        return { probabilities: new Float32Array(count * CLASSES), features: new Float32Array(count * FEATURES), input };
      },
    });
    const never = new AbortController().signal;
    await batcher.submit(images(0, 1), never);
    await batcher.submit(images(10, 3), never);
    expect(buffers).toHaveLength(2);
    expect(buffers[1]).toBe(buffers[0]);
    expect(buffers[0].byteLength).toBe(4 * IMAGE_LENGTH * 4);
  });

  it('writes every batch into the shared buffer it is given, even when a run hands another back', async () => {
    const shared = new Float32Array(new SharedArrayBuffer(4 * IMAGE_LENGTH * 4)); // [4, IMAGE_LENGTH]
    const seen: { same: boolean; values: number[] }[] = [];
    const batcher = new Batcher({
      maxBatch: 4, windowMs: 0, capacity: 8, imageLength: IMAGE_LENGTH, numClasses: CLASSES, featureChannels: FEATURES, input: shared,
      run: async (input, count) => {
        seen.push({ same: input.buffer === shared.buffer, values: Array.from(input) });
        return { probabilities: new Float32Array(count * CLASSES), features: new Float32Array(count * FEATURES), input: new Float32Array(4 * IMAGE_LENGTH) };
      },
    });
    const never = new AbortController().signal;
    await batcher.submit(images(0, 1), never);
    await batcher.submit(images(10, 2), never);
    expect(seen).toEqual([
      { same: true, values: [0, 0, 0] },
      { same: true, values: [10, 10, 10, 11, 11, 11] },
    ]);
  });

  it('never writes the shared batch buffer while a run reads it: the next batch waits for the run to settle', async () => {
    const model = fakeModel();
    const shared = new Float32Array(new SharedArrayBuffer(2 * IMAGE_LENGTH * 4)); // [2, IMAGE_LENGTH]
    const views: Float32Array[] = [];
    const batcher = new Batcher({
      maxBatch: 2, windowMs: 0, capacity: 8, imageLength: IMAGE_LENGTH, numClasses: CLASSES, featureChannels: FEATURES, input: shared,
      run: (input, count) => (views.push(input), model.run(input, count)), now: () => model.clock.ms,
    });
    const never = new AbortController().signal;
    const first = batcher.submit(images(0, 2), never);
    const second = batcher.submit(images(10, 2), never); // a full batch, but the buffer is in use
    expect(model.runs).toHaveLength(1);
    expect(Array.from(views[0])).toEqual([0, 0, 0, 1, 1, 1]);
    model.runs[0].finish(1);
    await first;
    await settle();
    expect(model.runs).toHaveLength(2);
    expect(views[1].buffer).toBe(shared.buffer);
    expect(Array.from(views[1])).toEqual([10, 10, 10, 11, 11, 11]);
    model.runs[1].finish(1);
    await second;
  });

  it('is idle only once the running batch has settled; abandon refuses the waiting images but lets the running batch finish', async () => {
    const model = fakeModel();
    const batcher = make(model, 8, 2);
    const never = new AbortController().signal;
    const running = batcher.submit(images(0, 2), never);
    const waiting = batcher.submit(images(10, 1), never);
    let idle = false;
    const drained = batcher.idle().then(() => (idle = true));
    const stopped = new Error('stopped');
    batcher.abandon(stopped);
    await expect(waiting).rejects.toBe(stopped);
    expect(batcher.depth).toBe(0);
    await settle();
    expect(idle).toBe(false);
    model.runs[0].finish(1);
    expect(await running).toHaveLength(2);
    await drained;
    expect(idle).toBe(true);
    expect(model.runs).toHaveLength(1);
  });

  it('never runs the images of a client that left before they were queued, or while they waited', async () => {
    const model = fakeModel();
    const batcher = make(model, 8, 2);
    const gone = new AbortController();
    gone.abort();
    await expect(batcher.submit(images(0, 2), gone.signal)).rejects.toBeInstanceOf(RequestAbortedError);
    expect(model.runs).toHaveLength(0);
    expect(batcher.depth).toBe(0);

    const busy = batcher.submit(images(10, 1), new AbortController().signal); // runs at once
    const leaving = new AbortController();
    const left = batcher.submit(images(20, 2), leaving.signal);
    const stays = batcher.submit(images(30, 1), new AbortController().signal);
    expect(batcher.depth).toBe(3);
    leaving.abort();
    await expect(left).rejects.toBeInstanceOf(RequestAbortedError);
    expect(batcher.depth).toBe(1);
    model.runs[0].finish(0.1);
    await busy;
    await settle();
    // The next batch holds only the image whose client stayed.
    expect(model.runs).toHaveLength(2);
    expect(model.runs[1].count).toBe(1);
    expect(Array.from(model.runs[1].input)).toEqual([30, 30, 30]);
    model.runs[1].finish(0.1);
    await stays;
    await batcher.idle();
  });
});
