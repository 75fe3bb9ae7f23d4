/**
 * `efficientnet serve`: the model behind HTTP, with dynamic batching, bounded queues, upload
 * limits, Prometheus metrics and a graceful drain on SIGTERM. The server code and its
 * dependencies (fastify, @fastify/multipart, prom-client) load only when this command runs.
 */
import { resolve } from 'node:path';
import { IMAGENET_CLASSES } from '../../arch/stages.js';
import { resolveLabels } from '../../labels.js';
import { openWeights } from '../../weights/open.js';
import { classifierWidth } from '../../weights/classifier.js';
import { toTimmNaming } from '../../weights/naming/index.js';
import { openFileSource } from '../file-source.js';
import { integerOption, numberOption, parseOptions, UsageError } from '../args.js';
import { engineChoice, ENGINE_OPTIONS } from '../engine-options.js';
import { LABELS_OPTION, readLabelsOption } from '../labels-file.js';
import { LOAD_MODEL_OPTIONS, LOAD_MODEL_USAGE, modelRequest } from '../load-model.js';

export const serveUsage =
  `efficientnet serve ${LOAD_MODEL_USAGE} [--labels FILE] [--port P] [--host H] [--threads T|auto] [--simd relaxed] ` +
  '[--max-batch N] [--batch-window-ms MS] [--queue N] [--max-body-mb N] [--timeout-ms MS] [--max-pixels N] [--drain-timeout-ms MS]';

/** Defaults: a batch of 8 fills two threads well on B0; 2 ms adds little latency alone. */
const DEFAULTS = {
  port: 8080, host: '127.0.0.1', maxBatch: 8, batchWindowMs: 2, queue: 64, maxBodyMb: 10, timeoutMs: 30_000,
  maxPixels: 25_000_000, drainTimeoutMs: 30_000,
} as const;

function nonNegativeInteger(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`${flag} must be a non-negative integer, got "${value}"`);
  return parsed;
}

export async function serveCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseOptions(argv, {
    ...LOAD_MODEL_OPTIONS,
    port: { type: 'string' },
    host: { type: 'string' },
    'max-batch': { type: 'string' },
    'batch-window-ms': { type: 'string' },
    queue: { type: 'string' },
    'max-body-mb': { type: 'string' },
    'timeout-ms': { type: 'string' },
    'max-pixels': { type: 'string' },
    'drain-timeout-ms': { type: 'string' },
    ...LABELS_OPTION,
    ...ENGINE_OPTIONS,
  });
  const request = modelRequest({ ...values, weights: values.weights === undefined ? undefined : resolve(values.weights) });
  const port = nonNegativeInteger(values.port, '--port', DEFAULTS.port);
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const maxBodyMb = numberOption(values['max-body-mb'], '--max-body-mb') ?? DEFAULTS.maxBodyMb;
  if (maxBodyMb <= 0) throw new UsageError(`--max-body-mb must be positive, got ${maxBodyMb}`);
  // A server runs on every core unless told otherwise.
  const engine = engineChoice({ ...values, threads: values.threads ?? 'auto' });
  const options = {
    host: values.host ?? DEFAULTS.host,
    port,
    maxBatch: integerOption(values['max-batch'], '--max-batch', DEFAULTS.maxBatch),
    batchWindowMs: nonNegativeInteger(values['batch-window-ms'], '--batch-window-ms', DEFAULTS.batchWindowMs),
    queue: integerOption(values.queue, '--queue', DEFAULTS.queue),
    maxBodyBytes: Math.floor(maxBodyMb * 2 ** 20),
    timeoutMs: integerOption(values['timeout-ms'], '--timeout-ms', DEFAULTS.timeoutMs),
    maxPixels: integerOption(values['max-pixels'], '--max-pixels', DEFAULTS.maxPixels),
    drainTimeoutMs: integerOption(values['drain-timeout-ms'], '--drain-timeout-ms', DEFAULTS.drainTimeoutMs),
  };
  // Checked before anything listens: a missing or unreadable weights file, or a labels file with
  // another count than the file's classes, is a usage mistake, not a server state.
  const labels = readLabelsOption(values.labels);
  if (request.weightsPath !== null) {
    const file = openFileSource(request.weightsPath, 'weights');
    try {
      // Only the header is read: the classifier's rows under the file's own naming, mapped to timm's.
      if (labels !== undefined) resolveLabels(labels, classifierWidth((await toTimmNaming(await openWeights(file))).source));
    } finally {
      file.close();
    }
  } else if (labels !== undefined) {
    resolveLabels(labels, IMAGENET_CLASSES); // synthetic weights carry ImageNet's head
  }
  const { serve } = await import('../../serve/run.js');
  await serve({ ...options, model: { request, threads: engine.threads, simd: engine.simd, labels } }, out);
}
