/**
 * The library's batch forms: `embed(images[])` and `embedMany` give every image the bits it gets
 * alone, whatever the batch size, the batch's other images and the thread count; embedMany keeps
 * input order, reports bad inputs in place, reads paths only through a given readFile, and keeps
 * a bounded number of inputs in flight.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { ImageDecodeError, InputShapeError } from '../../src/errors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';

const MODEL = 'tf_efficientnet_b0.ns_jft_in1k';
const PHOTOS = ['chelsea.png', 'grace_hopper.jpg', 'panda.jpg'].map((name) => `data/images/${name}`);
const bytes = PHOTOS.map((path) => new Uint8Array(readFileSync(path)));
/** A 37x23 RGBA image of a fixed pattern: pixel input beside encoded files. */
const pixels = {
  width: 37,
  height: 23,
  data: Uint8Array.from({ length: 37 * 23 * 4 }, (_, i) => (i * 7919) % 251),
};

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

describe('batch embeddings equal single ones bit for bit', () => {
  let one: EfficientNet;
  let two: EfficientNet;
  let alone: Float32Array[];
  const images = [...bytes, pixels];

  beforeAll(async () => {
    const weights = createSyntheticWeights({ variant: 'b0', seed: 0 });
    one = await EfficientNet.create({ model: MODEL, weights });
    two = await EfficientNet.create({ model: MODEL, weights, threads: 2 });
    alone = [];
    for (const image of images) alone.push(await one.embed(image));
  });
  afterAll(() => {
    one.dispose();
    two.dispose();
  });

  it('embed(images[]) in one batch, in several orders, on one and two threads', async () => {
    const batch = await one.embed(images);
    expect(batch).toHaveLength(images.length);
    batch.forEach((row, i) => expect(sameBits(row, alone[i]), `image ${i}`).toBe(true));
    const reversed = await two.embed([...images].reverse());
    reversed.reverse().forEach((row, i) => expect(sameBits(row, alone[i]), `image ${i} reversed, 2 threads`).toBe(true));
    const repeated = await one.embed([images[1], images[1], images[0]]);
    expect(sameBits(repeated[0], alone[1]) && sameBits(repeated[1], alone[1]) && sameBits(repeated[2], alone[0])).toBe(true);
    // The rows differ between images, so equality above is not vacuous.
    expect(sameBits(alone[0], alone[1])).toBe(false);
  });

  it('embedMany over an async iterable of paths, bytes and pixels, for batch sizes 1, 2 and 3', async () => {
    const inputs = [PHOTOS[0], bytes[1], pixels, PHOTOS[2], bytes[0]];
    const expected = [alone[0], alone[1], alone[3], alone[2], alone[0]];
    for (const batch of [1, 2, 3]) {
      async function* source(): AsyncGenerator<string | Uint8Array | typeof pixels> {
        for (const input of inputs) yield input;
      }
      const results = [];
      for await (const result of two.embedMany(source(), { batch, readFile: (path) => readFile(path) })) results.push(result);
      expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
      results.forEach((r, i) => expect(r.embedding !== undefined && sameBits(r.embedding, expected[i]), `batch ${batch} row ${i}`).toBe(true));
    }
  });

  it('embedMany reports a bad image in its place and carries on', async () => {
    const broken = bytes[1].slice(0, 2000);
    const results = [];
    for await (const result of one.embedMany([bytes[0], broken, 'data/images/panda.jpg', bytes[2]], { batch: 2 })) results.push(result);
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect(results[1].error).toBeInstanceOf(ImageDecodeError);
    expect(results[1].error?.message).toMatch(/truncated/);
    // A path without readFile is refused with a message saying what to pass.
    expect(results[2].error).toBeInstanceOf(InputShapeError);
    expect(results[2].error?.message).toMatch(/readFile/);
    expect(sameBits(results[0].embedding!, alone[0]) && sameBits(results[3].embedding!, alone[2])).toBe(true);
  });

  it('embedMany pulls a bounded number of inputs ahead of what it has yielded', async () => {
    let pulled = 0;
    function* endless(): Generator<Uint8Array> {
      for (;;) {
        pulled++;
        yield bytes[2];
      }
    }
    let yielded = 0;
    for await (const result of one.embedMany(endless(), { batch: 2 })) {
      expect(result.error).toBeUndefined();
      yielded++;
      // Look-ahead is two batches: never more than 4 inputs beyond the ones yielded, plus the batch in hand.
      expect(pulled - yielded).toBeLessThanOrEqual(6);
      if (yielded === 7) break;
    }
    expect(yielded).toBe(7);
  });
});
