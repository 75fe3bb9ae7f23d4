/**
 * The decode worker of a running server dies (killed from outside the server's code by a
 * preloaded fixture): /healthz and /readyz turn 503 at once, even with no upload in sight;
 * uploads in flight on the dead worker and every later upload get a typed 503 JSON answer (no
 * hang, no crash); the process keeps answering and still drains and exits 0 on SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeJpeg, randomImage } from '../image/support.js';
import { postImage, startServer, waitFor, type PostResult, type RunningServer } from './support.js';

const FAULT = fileURLToPath(new URL('./fixtures/decoder-fault.mjs', import.meta.url));
const IN_FLIGHT = 3;
/**
 * Every answer must come within this: a refusal takes milliseconds, so a request still open
 * after it is hanging (the test's own 120 s limit would only report that much later).
 */
const ANSWER_WITHIN_MS = 10_000;

interface ErrorBody {
  readonly error: { readonly type: string; readonly message: string };
}

async function get(server: RunningServer, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
  return { status: response.status, body: await response.json() };
}

function post(server: RunningServer, bytes: Uint8Array): Promise<PostResult> {
  return Promise.race([
    postImage(server, '/v1/classify', bytes),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS)),
  ]);
}

const errorOf = (result: PostResult): ErrorBody => JSON.parse(result.body.toString()) as ErrorBody;

/** The checks that hold once the decoder is dead, whatever was in flight. */
async function expectRefusingButAlive(server: RunningServer, image: Uint8Array): Promise<void> {
  expect(await get(server, '/healthz')).toEqual({ status: 503, body: { status: 'broken', reason: expect.stringMatching(/^the image decoder stopped: /) } });
  expect(await get(server, '/readyz')).toEqual({ status: 503, body: { status: 'broken' } });
  // Later uploads are refused before their bodies are read, typed and with the reason.
  for (let i = 0; i < 3; i++) {
    const next = await post(server, image);
    expect(next.status).toBe(503);
    expect(next.headers.get('retry-after')).toBe('1');
    expect(errorOf(next).error.type).toBe('UnavailableError');
    expect(errorOf(next).error.message).toMatch(/image decoder stopped.*retry on another one/);
  }
  // Still answering everything else; the process neither exited nor stopped listening.
  const metrics = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toMatch(/efficientnet_http_requests_total\{route="\/v1\/classify",status="503"\} \d+/);
  expect(server.child.exitCode).toBeNull();
}

describe('serve when its decode worker dies', () => {
  let server: RunningServer | null = null;
  afterEach(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    server = null;
  });

  it('turns /healthz 503 at once while idle, refuses uploads with a typed 503, and still exits 0 on SIGTERM', async () => {
    server = await startServer(['--threads', '1'], true, { nodeArgs: ['--import', FAULT] });
    const image = await encodeJpeg(randomImage(40, 32, 5));
    // Healthy and serving first, so what follows is the death's doing.
    expect((await post(server, image)).status).toBe(200);
    expect(await get(server, '/healthz')).toEqual({ status: 200, body: { status: 'alive' } });

    server.child.kill('SIGUSR2');
    // Nothing is sent to the decoder: the probe alone must notice.
    const live = server;
    await waitFor('/healthz to turn 503', async () => (await get(live, '/healthz')).status === 503, ANSWER_WITHIN_MS);
    expect(server.output()).toMatch(/decoder-fault: terminated with code 1/);
    expect(server.output()).toMatch(/the image decoder stopped: .*; \/healthz and \/readyz now answer 503/);
    await expectRefusingButAlive(server, image);
    expect(await server.stop()).toBe(0);
  });

  it(`answers the ${IN_FLIGHT} uploads in flight on the dying worker with a typed 503, then keeps answering`, async () => {
    server = await startServer(['--threads', '1'], true, { nodeArgs: ['--import', FAULT], env: { HOLD_DECODES: '1' } });
    const image = await encodeJpeg(randomImage(40, 32, 6));
    const answers = Array.from({ length: IN_FLIGHT }, () => post(server!, image));
    const live = server;
    await waitFor(`${IN_FLIGHT} uploads on the decoder`, () => live.output().includes(`decoder-fault: holding ${IN_FLIGHT}\n`), ANSWER_WITHIN_MS);
    // The uploads wait on the decoder and the server still calls itself healthy.
    expect(await get(server, '/healthz')).toEqual({ status: 200, body: { status: 'alive' } });

    server.child.kill('SIGUSR2');
    const results = await Promise.all(answers);
    for (const result of results) {
      expect(result.status).toBe(503);
      expect(result.headers.get('content-type')).toMatch(/^application\/json/);
      expect(errorOf(result).error).toEqual({ type: 'DecoderStoppedError', message: expect.stringMatching(/^the image decoder stopped: a decode worker stopped: /) });
    }
    await expectRefusingButAlive(server, image);
    expect(await server.stop()).toBe(0);
  });
});
