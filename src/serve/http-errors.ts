/**
 * Every refusal the server sends has the body `{"error": {"type", "message"}}`: `type` is the
 * typed error's class name (e.g. `ImageDecodeError`) or fastify's error code, and `message` says
 * what to change.
 */
import { EfficientNetError, ImageDecodeError, InputShapeError, ResourceLimitError } from '../errors.js';
import { QueueFullError } from './batcher.js';
import { ModelStoppedError } from './model-host.js';
import { DecoderStoppedError } from './upload-decoder.js';

/** The model is loading, or the server is draining: retry elsewhere or later. */
export class UnavailableError extends EfficientNetError {
  override readonly code: string = 'UNAVAILABLE';
}

/** A request this server cannot take in this form, e.g. no image in it or a bad query. */
export class BadRequestError extends EfficientNetError {
  override readonly code: string = 'BAD_REQUEST';
}

/** The request's media type is not an image, octet stream or multipart form. */
export class UnsupportedMediaError extends EfficientNetError {
  override readonly code: string = 'UNSUPPORTED_MEDIA_TYPE';
}

/** The uploads add up to more than the body limit. */
export class BodyTooLargeError extends EfficientNetError {
  override readonly code: string = 'BODY_TOO_LARGE';
}

export interface ErrorAnswer {
  readonly status: number;
  readonly body: { readonly error: { readonly type: string; readonly message: string } };
  /** Seconds for a Retry-After header, on 503s. */
  readonly retryAfterSeconds?: number;
}

const answer = (status: number, type: string, message: string, retryAfterSeconds?: number): ErrorAnswer =>
  ({ status, body: { error: { type, message } }, retryAfterSeconds });

export function errorAnswer(error: unknown): ErrorAnswer {
  // A full queue says when it should have room; loading and draining say only "soon" (or elsewhere).
  if (error instanceof QueueFullError) return answer(503, error.name, error.message, error.retryAfterSeconds);
  if (error instanceof UnavailableError) return answer(503, error.name, error.message, 1);
  // A thread this replica needs has died: its probes say so, and the client should go to another replica.
  if (error instanceof DecoderStoppedError || error instanceof ModelStoppedError) return answer(503, error.name, error.message, 1);
  if (error instanceof UnsupportedMediaError) return answer(415, error.name, error.message);
  if (error instanceof BodyTooLargeError) return answer(413, error.name, error.message);
  // Undecodable, truncated and oversized images, and bad options, are the client's to fix.
  if (error instanceof ImageDecodeError || error instanceof InputShapeError || error instanceof ResourceLimitError || error instanceof BadRequestError) {
    return answer(400, error.name, error.message);
  }
  // fastify's own refusals (body too large, bad media type, malformed multipart) carry a 4xx status.
  const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return answer(statusCode, typeof code === 'string' ? code : 'BadRequest', (error as Error).message);
  }
  return answer(500, 'InternalError', error instanceof Error ? error.message : String(error));
}
