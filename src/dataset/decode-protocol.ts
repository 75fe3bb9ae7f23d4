/**
 * Messages between the dataset pipeline and its decode workers.
 */
import type { PreprocessRecipe } from '../image/recipe.js';

export interface DecodeSettings {
  readonly recipe: PreprocessRecipe;
  readonly maxPixels?: number;
  readonly applyOrientation?: boolean;
}

export type DecodeRequest =
  | { readonly kind: 'settings'; readonly settings: DecodeSettings }
  | { readonly kind: 'decode'; readonly id: number; readonly path: string }
  /**
   * An image's bytes (an upload rather than a file), decoded and preprocessed like a file's; with
   * `slot`, into that shared slot instead of a buffer sent back.
   */
  | { readonly kind: 'decode-bytes'; readonly id: number; readonly bytes: Uint8Array; readonly slot?: number }
  /**
   * A shared buffer, `[3, size, size]` float32, that decodes may write into: sent once, then
   * named by its index, so no buffer crosses threads per image.
   */
  | { readonly kind: 'slot'; readonly index: number; readonly buffer: SharedArrayBuffer }
  /** A tensor's buffer handed back for reuse once its values are in a batch. */
  | { readonly kind: 'recycle'; readonly buffer: ArrayBuffer };

export type DecodeReply =
  /** tensor: `[3, size, size]` float32, the recipe's normalised crop; null when written into the request's slot. */
  | { readonly id: number; readonly ok: true; readonly tensor: Float32Array | null }
  /** type: the typed error's class name (e.g. `ImageDecodeError`), so a caller can raise the same class. */
  | { readonly id: number; readonly ok: false; readonly error: string; readonly code: string; readonly type: string };
