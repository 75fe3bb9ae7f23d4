/**
 * The images of one request: the raw body (image/jpeg, image/png, application/octet-stream) or
 * every file part of a multipart/form-data body, in upload order. Each is decoded and
 * preprocessed alone (on a decode worker), so a broken image is refused before it could share a
 * batch.
 */
import type { FastifyRequest } from 'fastify';
import { EfficientNetError } from '../errors.js';
import { BadRequestError, BodyTooLargeError } from './http-errors.js';
import type { UploadDecoder } from './upload-decoder.js';

export interface Upload {
  /** The form's file name, or null for a raw body. */
  readonly name: string | null;
  readonly bytes: Uint8Array;
}

export interface Uploads {
  readonly files: readonly Upload[];
  /** Whether the images came as a multipart form (answers then hold one entry per file). */
  readonly multipart: boolean;
}

export const RAW_IMAGE_TYPES = ['image/jpeg', 'image/png', 'application/octet-stream'] as const;

export async function readUploads(request: FastifyRequest, maxBodyBytes: number): Promise<Uploads> {
  if (request.isMultipart()) {
    const files: Upload[] = [];
    let total = 0;
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      const bytes = await part.toBuffer();
      total += bytes.length;
      if (total > maxBodyBytes) throw new BodyTooLargeError(`the files add up to more than the ${maxBodyBytes}-byte body limit`);
      files.push({ name: part.filename, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) });
    }
    if (files.length === 0) throw new BadRequestError('the multipart form holds no file: send each image as a file part');
    return { files, multipart: true };
  }
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new BadRequestError(`send an image as the body (${RAW_IMAGE_TYPES.join(', ')}) or as files of a multipart/form-data body`);
  }
  return { files: [{ name: null, bytes: new Uint8Array(body.buffer, body.byteOffset, body.length) }], multipart: false };
}

/**
 * Each upload as the model's input, `[3, size, size]`; a typed error names the file that failed.
 * Stops before decoding the next file once `signal` aborts (the client left); the inputs already
 * made are then handed back to the decoder.
 */
export async function preprocessUploads(uploads: Uploads, decoder: UploadDecoder, signal: AbortSignal): Promise<Float32Array[]> {
  const inputs: Float32Array[] = [];
  try {
    for (const upload of uploads.files) {
      if (signal.aborted) break;
      try {
        inputs.push(await decoder.decode(upload.bytes));
      } catch (error) {
        if (error instanceof EfficientNetError && upload.name !== null) error.message = `${upload.name}: ${error.message}`;
        throw error;
      }
    }
  } catch (error) {
    for (const input of inputs) decoder.recycle(input);
    throw error;
  }
  return inputs;
}
