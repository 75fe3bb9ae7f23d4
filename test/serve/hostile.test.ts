/**
 * Hostile clients: damaged images, bodies over the limit, uploads cut short or stalled, clients
 * that leave while their images wait. Each gets a 4xx (or its connection closed), the server
 * keeps answering, and whatever the client left behind is dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { EfficientNetError } from '../../src/errors.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { encodeJpeg, randomImage } from '../image/support.js';
import { caseSeed, Mutator } from '../support/mutate.js';
import { encodePng, metric, openSocket, postForm, postImage, readUntilClosed, SERVE_MODEL, startServer, waitFor, type RunningServer } from './support.js';

/** A few hundred damaged images: enough to cross every refusal path of the decoders over HTTP (the decoders' own fuzzing runs 6000 per format). */
const FUZZ_CASES = 300;
const FUZZ_SEED = 15;
/** As in the decoder fuzzing: a damaged size field must not make every case decode megapixels of garbage. */
const MAX_PIXELS = 1 << 16;
const MAX_BODY_MB = 1;
/** Upload time limit: long enough for any loopback upload here, short enough to wait for. */
const TIMEOUT_MS = 2000;

let net: EfficientNet;
let good: Uint8Array;
let goodAnswer: string;

beforeAll(async () => {
  net = await EfficientNet.create({ model: SERVE_MODEL, weights: createSyntheticWeights({ variant: 'b0', seed: 0 }) });
  good = await encodeJpeg(randomImage(48, 40, 7));
  const top = (await net.classify(good, { topk: 5 })).map(({ index, label, probability }) => ({ index, label, probability }));
  goodAnswer = JSON.stringify({ top, model: SERVE_MODEL, synthetic: true });
});
afterAll(() => net?.dispose());

async function expectGoodAnswer(server: RunningServer): Promise<void> {
  const answer = await postImage(server, '/v1/classify', good);
  expect(answer.status).toBe(200);
  expect(answer.body.toString()).toBe(goodAnswer);
}

describe('serve against hostile uploads', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer([
      '--threads', '1', '--max-pixels', String(MAX_PIXELS), '--max-body-mb', String(MAX_BODY_MB), '--timeout-ms', String(TIMEOUT_MS),
    ]);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it(`refuses each of ${FUZZ_CASES} damaged images exactly when the library does, and answers the next good request right`, async () => {
    const seeds = [
      await encodeJpeg(randomImage(24, 16, 1)), await encodeJpeg(randomImage(17, 29, 2), 60),
      encodePng(randomImage(20, 12, 3)), encodePng(randomImage(9, 31, 4)),
    ];
    let refused = 0;
    let next = 0;
    const client = async (): Promise<void> => {
      while (next < FUZZ_CASES) {
        const index = next++;
        const mutator = new Mutator(caseSeed(FUZZ_SEED, index));
        const bytes = mutator.mutateBytes(mutator.pick(seeds), { maxEdits: 4 });
        // The library's verdict on the same bytes, with the server's pixel limit: decoded and preprocessed, or which typed error.
        let expectedType: string | null = null;
        try {
          await net.preprocessImages([bytes], { maxPixels: MAX_PIXELS });
        } catch (error) {
          if (!(error instanceof EfficientNetError)) throw new Error(`case ${index}: the library threw an untyped ${String(error)}`);
          expectedType = error.name;
        }
        const answer = await postImage(server, '/v1/classify', bytes, 'application/octet-stream');
        if (expectedType === null) {
          expect(answer.status, `case ${index}`).toBe(200);
        } else {
          refused++;
          expect(answer.status, `case ${index}`).toBe(400);
          expect(JSON.parse(answer.body.toString()).error.type, `case ${index}`).toBe(expectedType);
        }
        await expectGoodAnswer(server);
      }
    };
    await Promise.all(Array.from({ length: 4 }, client));
    // The corpus is hostile: most damaged images are refused (the rest are still valid images).
    expect(refused).toBeGreaterThan(FUZZ_CASES / 2);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('refuses images over the pixel limit with 400 and the typed error', async () => {
    const answer = await postImage(server, '/v1/classify', encodePng(randomImage(300, 300, 5)), 'image/png');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body.toString()).error).toMatchObject({ type: 'ResourceLimitError' });
    const form = await postForm(server, '/v1/embed', [good, encodePng(randomImage(300, 300, 5))]);
    expect(form.status).toBe(400);
    expect(JSON.parse(form.body.toString()).error.message).toMatch(/^image-1: /);
  });

  it('answers 413 to a declared body over the limit before the body is sent', async () => {
    const socket = await openSocket(server);
    const reply = readUntilClosed(socket, 10_000);
    socket.write(`POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${5 * 2 ** 20}\r\n\r\n`);
    expect(await reply).toMatch(/^HTTP\/1\.1 413 /);
    await expectGoodAnswer(server);
  });

  it('answers 413 to a streamed body once it passes the limit, without reading it all', async () => {
    const socket = await openSocket(server);
    const reply = readUntilClosed(socket, 10_000);
    socket.write('POST /v1/embed HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = Buffer.alloc(64 * 1024, 0xff);
    // Up to 4 MB, four times the limit; the server answers and closes after about 1 MB.
    for (let sent = 0; sent < 4 * 2 ** 20 && !socket.destroyed && socket.writable; sent += chunk.length) {
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      socket.write('\r\n');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(await reply).toMatch(/^HTTP\/1\.1 413 /);
    const form = await postForm(server, '/v1/embed', [new Uint8Array(MAX_BODY_MB * 2 ** 20 + 1)]);
    expect(form.status).toBe(413);
    await expectGoodAnswer(server);
  });

  it('times out a stalled upload and closes its connection', async () => {
    const socket = await openSocket(server);
    const reply = readUntilClosed(socket, 10 * TIMEOUT_MS);
    socket.write('POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n');
    socket.write(good.subarray(0, 100));
    // Then nothing more: the server must give up on its own, well before the test's 10x bound.
    const text = await reply;
    expect(text).not.toBeNull();
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    // Headers that never end are cut too.
    const slow = await openSocket(server);
    const slowReply = readUntilClosed(slow, 10 * TIMEOUT_MS);
    slow.write('POST /v1/classify HTTP/1.1\r\nHost: x\r\n');
    expect(await slowReply).not.toBeNull();
    await expectGoodAnswer(server);
  });
});

describe('serve when clients leave', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // A long batch window keeps the images waiting long enough to leave while queued.
    server = await startServer(['--threads', '1', '--batch-window-ms', '3000', '--max-batch', '8']);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('drops a 5 MB upload cut after 64 KB and runs nothing for it', async () => {
    // This server's body limit is the default 10 MB, so the 5 MB upload is accepted and read until the cut.
    const before = await metric(server, 'efficientnet_images_total');
    const socket = await openSocket(server);
    socket.write(`POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${5 * 2 ** 20}\r\n\r\n`);
    socket.write(Buffer.alloc(64 * 1024, 0xd8));
    await waitFor('the upload to be under way', async () => (await metric(server, 'efficientnet_http_requests_in_progress')) === 2);
    socket.destroy();
    // The server is left with nothing in progress but the metrics request asking.
    await waitFor('the cut upload to be forgotten', async () => (await metric(server, 'efficientnet_http_requests_in_progress')) === 1);
    expect(await metric(server, 'efficientnet_images_total')).toBe(before);
    await expectGoodAnswer(server);
  });

  it('drops the queued images of clients that disconnect, and computes nothing for them', async () => {
    const before = await metric(server, 'efficientnet_images_total');
    const sockets = await Promise.all([0, 1, 2].map(() => openSocket(server)));
    for (const socket of sockets) {
      socket.on('error', () => undefined);
      socket.write(`POST /v1/embed HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${good.length}\r\n\r\n`);
      socket.write(good);
    }
    await waitFor('three queued images', async () => (await metric(server, 'efficientnet_queue_depth')) === 3);
    for (const socket of sockets) socket.destroy();
    await waitFor('the queue to empty', async () => (await metric(server, 'efficientnet_queue_depth')) === 0);
    await waitFor('the abandoned requests to end', async () => (await metric(server, 'efficientnet_http_requests_in_progress')) === 1);
    // A request after them is answered (after its own window), and it is the only image the model ran.
    const answer = await postImage(server, '/v1/classify', good);
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe(goodAnswer);
    expect(await metric(server, 'efficientnet_images_total')).toBe(before + 1);
  });
});
