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

/**
 * A decode worker stopped (not a bad image: those are typed errors); the server can no longer
 * take images and answers 503 so clients go to another replica.
 */
export class DecoderStoppedError extends EfficientNetError {
  override readonly code: string = 'DECODER_STOPPED';
}

export class UploadDecoder {
  private readonly pool: DecodePool;
  /** Values of one input: 3 * size * size. */
  private readonly imageLength: number;
  /** Each shared slot's view, by index: the tensor `decode` returns, `[3, size, size]`. */
  private readonly views: Float32Array[] = [];
  /** Each view's index. */
  private readonly slotOf = new Map<Float32Array, number>();
  /** Slots no upload holds; more are made when every one is held (the queue bounds how many). */
  private readonly freeSlots: number[] = [];
  /** Slots handed out by `decode` and not yet recycled. */
  private readonly heldSlots = new Set<number>();
  /** Why the decoder stopped, once a worker has died: every decode from then on is refused with it. */
  private stopped: string | null = null;

  constructor(threads: number, recipe: PreprocessRecipe, maxPixels: number) {
    this.pool = new DecodePool(threads, { recipe, maxPixels });
    this.imageLength = 3 * recipe.size * recipe.size;
    this.pool.onFailure((error) => {
      this.stopped = `the image decoder stopped: ${error.message}`;
    });
  }

  /**
   * Calls `listener` once, as soon as a decode worker dies (whether or not an upload was being
   * decoded); decodes waiting on it and every later one then fail with DecoderStoppedError.
   */
  onStopped(listener: (error: DecoderStoppedError) => void): void {
    this.pool.onFailure(() => listener(new DecoderStoppedError(this.stopped!)));
  }

  /**
   * `[3, size, size]` float32 for one upload, or the typed error the library would raise for it.
   * The tensor is a slot of memory shared with the decode worker: the caller owns it until it
   * hands it to `recycle`, which must happen exactly once.
   */
  async decode(bytes: Uint8Array): Promise<Float32Array> {
    // A new error each time: a multipart request prefixes its message with the file's name.
    if (this.stopped !== null) throw new DecoderStoppedError(this.stopped);
    const slot = this.freeSlots.pop() ?? this.addSlot();
    this.heldSlots.add(slot);
    let outcome;
    try {
      outcome = await this.pool.decodeBytesInto(bytes, slot);
    } catch (error) {
      this.release(slot);
      throw new DecoderStoppedError(this.stopped ?? `the image decoder stopped: ${(error as Error).message}`);
    }
    if (outcome.ok) return this.views[slot];
    this.release(slot);
    const ErrorClass = DECODE_ERRORS[outcome.code];
    if (ErrorClass !== undefined) throw new ErrorClass(outcome.error);
    // Not a refusal of the image: an internal failure, answered 500 under its own name.
    const error = new Error(outcome.error);
    error.name = outcome.type;
    throw error;
  }

  /** Hands an input's slot back once its values are copied into a batch (or no longer needed). */
  recycle(tensor: Float32Array): void {
    const slot = this.slotOf.get(tensor);
    if (slot !== undefined) this.release(slot);
  }

  private release(slot: number): void {
    // Only a held slot goes back: a second release would let two uploads share one.
    if (this.heldSlots.delete(slot)) this.freeSlots.push(slot);
  }

  private addSlot(): number {
    const buffer = new SharedArrayBuffer(this.imageLength * 4); // [3, size, size] f32
    const slot = this.pool.addSlot(buffer);
    const view = new Float32Array(buffer);
    this.views[slot] = view;
    this.slotOf.set(view, slot);
    return slot;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
