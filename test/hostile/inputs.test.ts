/**
 * Hostile inputs to a built model: sizes past wasm32, malformed tensors, bad images. Each is
 * refused with a typed error before anything is allocated or decoded, and the model afterwards
 * computes exactly what it computed before, alone or under concurrent calls.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EfficientNet, type ImageInput } from '../../src/efficientnet.js';
import { ConfigError, EfficientNetError, ImageDecodeError, InputShapeError, ResourceLimitError } from '../../src/errors.js';
import { decodeImage, type ImageCodecs } from '../../src/image/decode.js';
import { WASM32_MAX_BYTES } from '../../src/runtime/memory-limits.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { encodeJpeg, randomImage } from '../image/support.js';
import { mulberry32, randomFloats } from '../support/random.js';

const photo = new Uint8Array(readFileSync(new URL('../../data/images/panda.jpg', import.meta.url)));
const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A PNG that is only a signature, an IHDR declaring `width` x `height`, and IEND. */
function pngHeaderOnly(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(8 + 25 + 12); // [signature, IHDR chunk, IEND chunk]
  const view = new DataView(bytes.buffer);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  view.setUint32(8, 13);
  bytes.set(text('IHDR'), 12);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 2, 0, 0, 0], 24); // 8-bit RGB
  bytes.set(text('IEND'), 8 + 25 + 4);
  return bytes;
}

/** `jpeg` with its frame header (SOF0..SOF2) declaring `width` x `height`. */
function withFrameSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = jpeg.slice();
  let at = 2;
  while (!(out[at + 1] >= 0xc0 && out[at + 1] <= 0xc2)) at += 2 + ((out[at + 2] << 8) | out[at + 3]);
  out.set([height >> 8, height & 0xff, width >> 8, width & 0xff], at + 5);
  return out;
}

/** Calls the bundled decoders through a counter, to see whether a refusal came before decoding. */
function countingCodecs(): { codecs: ImageCodecs; calls: () => number } {
  let calls = 0;
  const decode = async (bytes: Uint8Array) => {
    calls++;
    return decodeImage(bytes);
  };
  return { codecs: { decodeJpeg: decode, decodePng: decode }, calls: () => calls };
}

describe('hostile inputs to a built model', () => {
  const weights = createSyntheticWeights({ variant: 'b0', seed: 31 });
  const input = randomFloats(mulberry32(1), 3 * 32 * 32, 2); // [1, 3, 32, 32]
  let net: EfficientNet;
  let jpeg: Uint8Array;
  beforeAll(async () => {
    net = await EfficientNet.create({ model: 'tf_efficientnet_b0.ns_jft_in1k', weights });
    jpeg = await encodeJpeg(randomImage(16, 16, 4));
  });
  afterEach(() => vi.restoreAllMocks());

  /** Every refusal the API can give a caller, each with the class it must have. */
  const refusals = (): [string, () => Promise<unknown>, typeof EfficientNetError][] => [
    ['a batch past the wasm32 limit', () => net.forward(new Float32Array(1), [64, 3, 2048, 2048]), ResourceLimitError],
    ['too few values for the shape', () => net.forward(input.subarray(1), [1, 3, 32, 32]), InputShapeError],
    ['a three-axis shape', () => net.forward(input, [3, 32, 32]), InputShapeError],
    ['a zero-sized input', () => net.forward(new Float32Array(0), [0, 3, 32, 32]), InputShapeError],
    ['bytes that are no image', () => net.classify(text('not an image at all')), ImageDecodeError],
    ['a truncated JPEG', () => net.embed(jpeg.subarray(0, jpeg.length - 40)), ImageDecodeError],
    ['a JPEG declaring 60000x60000', () => net.features(withFrameSize(jpeg, 60_000, 60_000)), ResourceLimitError],
    ['a batch with one bad image', () => net.classify([photo, text('GIF89a......')]), ImageDecodeError],
    ['topk 0', () => net.classify(photo, { topk: 0 }), ConfigError],
  ];

  it('refuses a request past the wasm32 limit with the memory it needs, before growing memory', async () => {
    await net.forward(input, [1, 3, 32, 32]);
    const grow = vi.spyOn(WebAssembly.Memory.prototype, 'grow');
    const shape = [64, 3, 2048, 2048];
    const error = (await net.forward(new Float32Array(1), shape).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ResourceLimitError);
    const need = Number(/needs ([\d.]+) GiB/.exec(error.message)?.[1]) * 2 ** 30;
    // The need covers at least the input tensor itself; the message rounds to 0.01 GiB.
    const inputBytes = shape.reduce((a, b) => a * b, 4);
    expect(need).toBeGreaterThan(WASM32_MAX_BYTES);
    expect(need).toBeGreaterThanOrEqual(inputBytes - 0.005 * 2 ** 30);
    expect(grow).not.toHaveBeenCalled();
    // The spy does see growth: an input larger than any before grows the arena.
    await net.forward(randomFloats(mulberry32(2), 2 * 3 * 160 * 160, 2), [2, 3, 160, 160]);
    expect(grow).toHaveBeenCalled();
  });

  it('refuses images from their container alone, before any decoder runs', async () => {
    const cases: [ImageInput, typeof EfficientNetError][] = [
      [new Uint8Array(0), ImageDecodeError],
      [text('plain text, no image'), ImageDecodeError],
      [text('GIF89a\0\0\0\0'), ImageDecodeError],
      [jpeg.subarray(0, 300), ImageDecodeError],
      [pngHeaderOnly(20_000, 20_000), ResourceLimitError],
      [withFrameSize(jpeg, 60_000, 60_000), ResourceLimitError],
    ];
    const { codecs, calls } = countingCodecs();
    for (const [image, errorClass] of cases) {
      await expect(net.classify(image, { codecs })).rejects.toBeInstanceOf(errorClass);
    }
    await expect(net.classify(photo, { codecs, maxPixels: 1000 })).rejects.toThrow(ResourceLimitError);
    expect(calls()).toBe(0);
    // The counter does count: a valid image goes through the decoder once.
    await net.classify(photo, { codecs });
    expect(calls()).toBe(1);
  });

  it('after every kind of refusal, computes the same bytes as before', async () => {
    const logitsBefore = (await net.forward(input, [1, 3, 32, 32])).logits;
    const topBefore = await net.classify(photo);
    for (const [label, call, errorClass] of refusals()) {
      const error = await call().then(() => undefined, (e: unknown) => e);
      expect(error, label).toBeInstanceOf(errorClass);
      expect((error as Error).message, label).not.toContain('\n');
    }
    expect(bytesOf((await net.forward(input, [1, 3, 32, 32])).logits).equals(bytesOf(logitsBefore))).toBe(true);
    expect(await net.classify(photo)).toEqual(topBefore);
  });

  it('runs concurrent good and bad calls as if one after another', async () => {
    const inputs = [3, 4, 5].map((seed) => randomFloats(mulberry32(seed), 3 * 32 * 32, 2));
    const sequential: Buffer[] = [];
    for (const x of inputs) sequential.push(bytesOf((await net.forward(x, [1, 3, 32, 32])).logits));
    const bad = refusals();
    // Interleave: good, bad, good, bad, …, so every good call queues right behind a failing one.
    const calls = inputs.flatMap((x, i) => [() => net.forward(x, [1, 3, 32, 32]), bad[i * 3][1], bad[i * 3 + 1][1], bad[i * 3 + 2][1]]);
    const settled = await Promise.allSettled(calls.map((call) => call()));
    inputs.forEach((_, i) => {
      const good = settled[i * 4];
      expect(good.status).toBe('fulfilled');
      expect(bytesOf((good as PromiseFulfilledResult<{ logits: Float32Array }>).value.logits).equals(sequential[i])).toBe(true);
      for (let k = 1; k <= 3; k++) {
        const outcome = settled[i * 4 + k];
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(bad[i * 3 + k - 1][2]);
      }
    });
  });
});
