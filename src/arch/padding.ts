/**
 * The two padding families of EfficientNet checkpoints. They change every border pixel, so a
 * checkpoint run with the wrong one gives plausible but wrong answers.
 *
 * `same`: TensorFlow's SAME, used by the original weights and timm's `tf_efficientnet_*`; when the
 * total padding is odd the extra row goes after (bottom/right). BN eps 1e-3.
 * `symmetric`: PyTorch's `k // 2` on both sides, used by timm's `efficientnet_*` and torchvision.
 * BN eps 1e-5.
 */
import { ConfigError } from '../errors.js';

export type PaddingMode = 'same' | 'symmetric';

export const PADDING_MODES: readonly PaddingMode[] = ['same', 'symmetric'];

/** BN epsilon each padding family was trained with. */
export const DEFAULT_BN_EPS: Readonly<Record<PaddingMode, number>> = { same: 1e-3, symmetric: 1e-5 };

export function parsePaddingMode(value: string): PaddingMode {
  if ((PADDING_MODES as readonly string[]).includes(value)) return value as PaddingMode;
  throw new ConfigError(`unknown padding "${value}": expected "same" (tf_efficientnet_*) or "symmetric" (efficientnet_*)`);
}
