/**
 * The server's Prometheus metrics, on a registry of its own: requests by route and status,
 * request latency, batch sizes and durations, queue depth, images computed (a counter, whose
 * rate() is images/s) and the images/s of the last ten seconds, plus prom-client's process
 * metrics (RSS, heap, event-loop lag).
 */
import type { ServeDependencies } from './dependencies.js';

/** Request latencies from a lone small image (tens of ms) to a full queue on a large model (tens of s). */
const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The window the images/s gauge averages over. */
const RATE_WINDOW_MS = 10_000;

export interface ServerMetrics {
  /** Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
  recordRequest(route: string, status: number, seconds: number): void;
  /** A request arrived (+1) or its connection finished with it, answered or not (-1). */
  trackInProgress(change: 1 | -1): void;
  recordBatch(size: number, seconds: number): void;
}

export function createMetrics(promClient: ServeDependencies['promClient'], maxBatch: number, queueDepth: () => number): ServerMetrics {
  const registry = new promClient.Registry();
  const registers = [registry];
  promClient.collectDefaultMetrics({ register: registry });
  const requests = new promClient.Counter({
    name: 'efficientnet_http_requests_total', help: 'HTTP requests answered, by route and status code', labelNames: ['route', 'status'], registers,
  });
  const latency = new promClient.Histogram({
    name: 'efficientnet_http_request_duration_seconds', help: 'Time from receiving a request to answering it', labelNames: ['route'],
    buckets: LATENCY_BUCKETS_SECONDS, registers,
  });
  const batchSizes = new promClient.Histogram({
    name: 'efficientnet_batch_size', help: 'Images per batch run by the model',
    buckets: Array.from({ length: maxBatch }, (_, i) => i + 1), registers,
  });
  const batchSeconds = new promClient.Histogram({
    name: 'efficientnet_batch_duration_seconds', help: 'Time the model took per batch', buckets: LATENCY_BUCKETS_SECONDS, registers,
  });
  const inProgress = new promClient.Gauge({
    name: 'efficientnet_http_requests_in_progress', help: 'Requests received and not yet answered (or abandoned)', registers,
  });
  const images = new promClient.Counter({ name: 'efficientnet_images_total', help: 'Images run through the model', registers });
  // Finished batches of the last RATE_WINDOW_MS: [time, images].
  const recent: [number, number][] = [];
  const prune = (): void => {
    const since = performance.now() - RATE_WINDOW_MS;
    while (recent.length > 0 && recent[0][0] < since) recent.shift();
  };
  new promClient.Gauge({
    name: 'efficientnet_queue_depth', help: 'Images waiting for a batch', registers,
    collect() {
      this.set(queueDepth());
    },
  });
  new promClient.Gauge({
    name: 'efficientnet_images_per_second', help: `Images run per second over the last ${RATE_WINDOW_MS / 1000} s`, registers,
    collect() {
      prune();
      this.set(recent.reduce((sum, [, count]) => sum + count, 0) / (RATE_WINDOW_MS / 1000));
    },
  });
  return {
    render: () => registry.metrics(),
    contentType: registry.contentType,
    recordRequest(route, status, seconds) {
      requests.inc({ route, status: String(status) });
      latency.observe({ route }, seconds);
    },
    trackInProgress(change) {
      inProgress.inc(change);
    },
    recordBatch(size, seconds) {
      batchSizes.observe(size);
      batchSeconds.observe(seconds);
      images.inc(size);
      recent.push([performance.now(), size]);
      prune();
    },
  };
}
