/**
 * Uploads to network inputs on a decode worker (the dataset pipeline's pool), not on the HTTP
 * thread: decoding a photo takes several milliseconds of CPU, and on the main thread it held up
 * every other request's reading and answering, and the batch that was waiting for it.
 *
 * A refusal comes back as the same typed error class the library raises (by its code), so the
 * answer is the same 400 with the same `type` as when decoding ran here.
 */
import { DecodePool } from '../dataset/decode-pool.js';
import { EfficientNetError, ImageDecodeError, InputShapeError, ResourceLimitError } from '../errors.js';
import type { PreprocessRecipe } from '../image/recipe.js';

/** The typed errors decoding and preprocessing raise, by the code that survives the thread boundary. */
const DECODE_ERRORS: Record<string, new (message: string) => EfficientNetError> = {
  [new ImageDecodeError('').code]: ImageDecodeError,
  [new InputShapeError('').code]: InputShapeError,
  [new ResourceLimitError('').code]: ResourceLimitError,
};

/** A decode worker stopped (not a bad image: those are typed errors); the server can no longer take images. */
export class DecoderStoppedError extends EfficientNetError {
  override readonly code: string = 'DECODER_STOPPED';
}

export class UploadDecoder {
  private readonly pool: DecodePool;
  private stopped: ((error: Error) => void) | null = null;

  constructor(threads: number, recipe: PreprocessRecipe, maxPixels: number) {
    this.pool = new DecodePool(threads, { recipe, maxPixels });
  }

  /** Calls `listener` once if a decode worker dies; every later decode then fails with DecoderStoppedError. */
  onStopped(listener: (error: Error) => void): void {
    this.stopped = listener;
  }

  /** `[3, size, size]` float32 for one upload, or the typed error the library would raise for it. */
  async decode(bytes: Uint8Array): Promise<Float32Array> {
    let outcome;
    try {
      outcome = await this.pool.decodeBytes(bytes);
    } catch (error) {
      const stopped = new DecoderStoppedError(`the image decoder stopped: ${(error as Error).message}`);
      this.stopped?.(stopped);
      this.stopped = null;
      throw stopped;
    }
    if (outcome.ok) return outcome.tensor;
    const ErrorClass = DECODE_ERRORS[outcome.code];
    if (ErrorClass !== undefined) throw new ErrorClass(outcome.error);
    // Not a refusal of the image: an internal failure, answered 500 under its own name.
    const error = new Error(outcome.error);
    error.name = outcome.type;
    throw error;
  }

  /** Hands an input's buffer back once its values are copied into a batch (or no longer needed). */
  recycle(tensor: Float32Array): void {
    if (tensor.buffer.byteLength > 0) this.pool.recycle(tensor);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
