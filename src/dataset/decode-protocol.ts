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
  /** An image's bytes (an upload rather than a file), decoded and preprocessed like a file's. */
  | { readonly kind: 'decode-bytes'; readonly id: number; readonly bytes: Uint8Array }
  /** A tensor's buffer handed back for reuse once its values are in a batch. */
  | { readonly kind: 'recycle'; readonly buffer: ArrayBuffer };

export type DecodeReply =
  /** tensor: `[3, size, size]` float32, the recipe's normalised crop. */
  | { readonly id: number; readonly ok: true; readonly tensor: Float32Array }
  /** type: the typed error's class name (e.g. `ImageDecodeError`), so a caller can raise the same class. */
  | { readonly id: number; readonly ok: false; readonly error: string; readonly code: string; readonly type: string };
