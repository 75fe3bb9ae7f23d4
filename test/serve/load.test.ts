/**
 * Under load the server answers every request, 200 or 503 from its bounded queue (with
 * Retry-After), and identical images get identical answers whatever batch they ran in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { RETRY_AFTER_BOUNDS } from '../../src/serve/batcher.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { encodeJpeg, randomImage } from '../image/support.js';
import { encodePng, metric, postImage, SERVE_MODEL, startServer, type RunningServer } from './support.js';

const REQUESTS = 256;
const CONCURRENCY = 64;
/** Smaller than the concurrency, so some requests meet a full queue and must get 503. */
const QUEUE = 16;

describe('serve under load', () => {
  let server: RunningServer;
  let images: Uint8Array[];
  beforeAll(async () => {
    server = await startServer(['--threads', '2', '--queue', String(QUEUE), '--max-batch', '8']);
    images = [encodePng(randomImage(64, 48, 1)), await encodeJpeg(randomImage(50, 70, 2)), encodePng(randomImage(33, 33, 3)), await encodeJpeg(randomImage(120, 80, 4))];
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it(`answers ${REQUESTS} requests at concurrency ${CONCURRENCY} with 200 or 503, identical bodies for identical images`, async () => {
    const results: { image: number; status: number; body: string; retryAfter: string | null }[] = [];
    let next = 0;
    const client = async (): Promise<void> => {
      while (next < REQUESTS) {
        const i = next++;
        const image = i % images.length;
        const answer = await postImage(server, '/v1/classify?topk=5', images[image], image % 2 === 0 ? 'image/png' : 'image/jpeg');
        results.push({ image, status: answer.status, body: answer.body.toString(), retryAfter: answer.headers.get('retry-after') });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    expect(results).toHaveLength(REQUESTS);
    for (const r of results) expect([200, 503]).toContain(r.status);
    const refused = results.filter((r) => r.status === 503);
    for (const r of refused) {
      const { type, message } = JSON.parse(r.body).error;
      expect(type).toBe('QueueFullError');
      // Whole seconds within the bounds, and the same advice as the message gives (batcher.test.ts checks how it is derived).
      expect(r.retryAfter).toMatch(/^[1-9]\d*$/);
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(RETRY_AFTER_BOUNDS.min);
      expect(Number(r.retryAfter)).toBeLessThanOrEqual(RETRY_AFTER_BOUNDS.max);
      expect(message).toContain(`retry in about ${r.retryAfter} s`);
    }
    const net = await EfficientNet.create({ model: SERVE_MODEL, weights: createSyntheticWeights({ variant: 'b0', seed: 0 }) });
    try {
      for (const [i, image] of images.entries()) {
        const bodies = new Set(results.filter((r) => r.image === i && r.status === 200).map((r) => r.body));
        expect(bodies.size).toBe(1);
        const top = (await net.classify(image, { topk: 5 })).map(({ index, label, probability }) => ({ index, label, probability }));
        expect(JSON.parse([...bodies][0])).toEqual({ top, model: SERVE_MODEL, synthetic: true });
      }
    } finally {
      net.dispose();
    }
    // Nothing is left behind: no queued images, no requests in progress.
    expect(await metric(server, 'efficientnet_queue_depth')).toBe(0);
    expect(await metric(server, 'efficientnet_http_requests_in_progress')).toBe(1); // this /metrics request itself
    expect(await metric(server, 'efficientnet_images_total')).toBe(REQUESTS - refused.length);
  });
});
