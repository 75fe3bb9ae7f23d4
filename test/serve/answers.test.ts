/**
 * `efficientnet serve` answers what the library answers, bit for bit: JSON top-k and embeddings
 * for raw and multipart uploads, raw float32 rows, and the same bits whether an image ran alone
 * or in a batch of 8 (mixed classify and embed requests).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { encodeJpeg, randomImage } from '../image/support.js';
import { encodePng, metric, postForm, postImage, SERVE_MODEL, startServer, type RunningServer } from './support.js';

const PHOTOS = ['panda.jpg', 'grace_hopper.jpg', 'chelsea.png'].map((name) => new Uint8Array(readFileSync(new URL(`../../data/images/${name}`, import.meta.url))));
const typeOf = (bytes: Uint8Array): string => (bytes[0] === 0x89 ? 'image/png' : 'image/jpeg');

/** The library's answer without the per-prediction `synthetic` flag, which the server states once. */
async function libraryTop(net: EfficientNet, image: Uint8Array, topk: number): Promise<{ index: number; label: string; probability: number }[]> {
  return (await net.classify(image, { topk })).map(({ index, label, probability }) => ({ index, label, probability }));
}

const floatsOf = (body: Buffer): Float32Array => new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));

let net: EfficientNet;
let weights: Uint8Array;

beforeAll(async () => {
  weights = createSyntheticWeights({ variant: 'b0', seed: 0 });
  net = await EfficientNet.create({ model: SERVE_MODEL, weights });
});
afterAll(() => net?.dispose());

describe('serve answers like the library', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(['--threads', '1']);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('answers the probes and describes its model', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const model = await (await fetch(`${server.url}/v1/model`)).json();
    expect(model).toMatchObject({
      model: SERVE_MODEL, variant: 'b0', classes: 1000, featureChannels: 1280, synthetic: true,
      weightsSha256: createHash('sha256').update(weights).digest('hex'),
    });
    expect(model.preprocessing).toEqual(JSON.parse(JSON.stringify(net.recipe)));
  });

  it('classifies raw JPEG and PNG bodies as the library does', async () => {
    for (const photo of PHOTOS) {
      const answer = await postImage(server, '/v1/classify?topk=3', photo, typeOf(photo));
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString())).toEqual({ top: await libraryTop(net, photo, 3), model: SERVE_MODEL, synthetic: true });
    }
  });

  it('answers a multipart form with one entry per file, in upload order', async () => {
    const files = [PHOTOS[2], PHOTOS[0], PHOTOS[2]];
    const classify = await postForm(server, '/v1/classify?topk=2', files);
    expect(classify.status).toBe(200);
    const expected = [];
    for (const file of files) expected.push(await libraryTop(net, file, 2));
    expect(JSON.parse(classify.body.toString())).toEqual({ top: expected, model: SERVE_MODEL, synthetic: true });
    const embed = await postForm(server, '/v1/embed', files.slice(0, 2));
    const embeddings = JSON.parse(embed.body.toString()).embedding as number[][];
    expect(embeddings).toHaveLength(2);
    // float32 -> JSON number -> float32 is exact, so the comparison is bit for bit.
    for (const [i, file] of files.slice(0, 2).entries()) expect(Float32Array.from(embeddings[i])).toEqual(await net.embed(file));
  });

  it('embeds as JSON and as raw little-endian float32', async () => {
    const json = await postImage(server, '/v1/embed', PHOTOS[1]);
    expect(Float32Array.from(JSON.parse(json.body.toString()).embedding)).toEqual(await net.embed(PHOTOS[1]));
    const raw = await postImage(server, '/v1/embed', PHOTOS[1], 'application/octet-stream', 'application/octet-stream');
    expect(raw.headers.get('content-type')).toBe('application/octet-stream');
    expect(raw.headers.get('x-tensor-shape')).toBe('1,1280');
    expect(floatsOf(raw.body)).toEqual(await net.embed(PHOTOS[1]));
  });

  it('refuses what it cannot answer with a typed error body', async () => {
    const cases: [Promise<{ status: number; body: Buffer }>, number, string][] = [
      [postImage(server, '/v1/classify?topk=0', PHOTOS[0]), 400, 'BadRequestError'],
      [postImage(server, '/v1/classify', new TextEncoder().encode('not an image')), 400, 'ImageDecodeError'],
      [postImage(server, '/v1/classify', new Uint8Array(0)), 400, 'BadRequestError'],
      [postImage(server, '/v1/embed', PHOTOS[0], 'text/plain'), 415, 'UnsupportedMediaError'],
      [postImage(server, '/v1/nothing', PHOTOS[0]), 404, 'NotFound'],
    ];
    for (const [request, status, type] of cases) {
      const answer = await request;
      expect(answer.status).toBe(status);
      expect(JSON.parse(answer.body.toString()).error.type).toBe(type);
    }
  });

  it('exposes Prometheus metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['efficientnet_http_requests_total{route="/v1/classify",status="200"}', 'efficientnet_http_request_duration_seconds_bucket',
      'efficientnet_batch_size_bucket', 'efficientnet_queue_depth', 'efficientnet_images_per_second', 'efficientnet_images_total', 'process_resident_memory_bytes']) {
      expect(text).toContain(name);
    }
  });
});

describe('serve batches', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // A long window, so the 16 requests below meet in full batches of 8 whatever the machine's load.
    server = await startServer(['--threads', '2', '--max-batch', '8', '--batch-window-ms', '5000']);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('gives each image the same bits in a batch of 8 as alone in the library', async () => {
    const images: Uint8Array[] = [...PHOTOS];
    for (let seed = 1; images.length < 8; seed++) {
      const pixels = randomImage(40 + 9 * seed, 30 + 7 * seed, seed);
      images.push(seed % 2 === 0 ? encodePng(pixels) : await encodeJpeg(pixels));
    }
    const octets = 'application/octet-stream';
    // 16 requests: each image classified and embedded, so both batches mix the two routes.
    const answers = await Promise.all(images.flatMap((image) => [
      postImage(server, '/v1/classify', image, typeOf(image), octets),
      postImage(server, '/v1/embed', image, typeOf(image), octets),
    ]));
    expect(await metric(server, 'efficientnet_batch_size_count')).toBe(2);
    expect(await metric(server, 'efficientnet_batch_size_sum')).toBe(16);
    const size = net.recipe.size;
    for (const [i, image] of images.entries()) {
      const { input } = await net.preprocessImages([image]);
      const alone = await net.forward(input, [1, 3, size, size], { probabilities: true });
      expect(answers[2 * i].status).toBe(200);
      expect(Buffer.from(floatsOf(answers[2 * i].body).buffer).equals(Buffer.from(alone.probabilities!.buffer))).toBe(true);
      expect(Buffer.from(floatsOf(answers[2 * i + 1].body).buffer).equals(Buffer.from(alone.features.slice().buffer))).toBe(true);
    }
  });
});
