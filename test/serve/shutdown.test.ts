/**
 * Shutdown of the real CLI process: on SIGTERM /readyz turns 503, new connections are refused,
 * every request already accepted is answered, and the process exits 0; a drain that outlives
 * its timeout cuts what is left and exits non-zero; a signal during loading exits 0 at once.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeJpeg, randomImage } from '../image/support.js';
import { metric, openSocket, postImage, readUntilClosed, startServer, waitFor } from './support.js';

const IN_FLIGHT = 16;

/** Whether a new TCP connection to `port` is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('serve shutdown', () => {
  it(`answers all ${IN_FLIGHT} requests in flight at SIGTERM, then exits 0`, async () => {
    // The batch window holds the requests in the queue, so all 16 are in flight when the signal comes.
    const server = await startServer(['--threads', '1', '--max-batch', '32', '--batch-window-ms', '4000']);
    const image = await encodeJpeg(randomImage(40, 40, 9));
    const answers = Array.from({ length: IN_FLIGHT }, () => postImage(server, '/v1/classify', image));
    await waitFor(`${IN_FLIGHT} queued images`, async () => (await metric(server, 'efficientnet_queue_depth')) === IN_FLIGHT);
    // A request whose headers are not finished yet: accepted before the signal, asked after it.
    const probe = await openSocket(server);
    const probeReply = readUntilClosed(probe, 30_000);
    probe.write('GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n');
    server.child.kill('SIGTERM');
    await waitFor('the drain to begin', () => server.output().includes('SIGTERM: draining'));
    probe.write('\r\n');
    expect(await probeReply).toMatch(/^HTTP\/1\.1 503 /);
    expect(await refused(server.port)).toBe(true);
    const results = await Promise.all(answers);
    expect(results.map((r) => r.status)).toEqual(Array(IN_FLIGHT).fill(200));
    expect(new Set(results.map((r) => r.body.toString())).size).toBe(1);
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('stopped');
  });

  it('cuts what is left and exits non-zero when the drain outlives its timeout', async () => {
    const server = await startServer(['--threads', '1', '--batch-window-ms', '20000', '--drain-timeout-ms', '300']);
    const answer = postImage(server, '/v1/classify', await encodeJpeg(randomImage(40, 40, 9))).catch((error: Error) => error);
    await waitFor('a queued image', async () => (await metric(server, 'efficientnet_queue_depth')) === 1);
    expect(await server.stop()).toBe(1);
    expect(server.output()).toMatch(/still unanswered 300 ms after the shutdown signal/);
    expect(await answer).toBeInstanceOf(Error);
  });

  it('answers 503 on /readyz while the model loads, and exits 0 on SIGTERM during loading', async () => {
    // Listening comes first; loading B0 (weights made, packed, the model thread started) takes far longer than one probe.
    const server = await startServer(['--threads', '1'], false);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'loading' });
    const classify = await postImage(server, '/v1/classify', await encodeJpeg(randomImage(8, 8, 1)));
    expect(classify.status).toBe(503);
    expect(await server.stop()).toBe(0);
    expect(server.output()).toContain('SIGTERM: stopping while the model was loading');
  });
});
