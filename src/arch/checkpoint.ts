/**
 * Which network, padding family and BN epsilon a request means: a timm checkpoint name brings
 * all three; a bare variant takes TensorFlow's family unless told otherwise. One rule, used by
 * the model object and by the exporter, so the two never disagree.
 */
import { ConfigError } from '../errors.js';
import { buildNetwork, type NetworkSpec } from './network.js';
import { DEFAULT_BN_EPS, parsePaddingMode, type PaddingMode } from './padding.js';
import { findPreset, type CheckpointPreset } from './presets.js';
import { isVariantName, VARIANT_LIST, type ScalingCoefficients, type VariantName } from './variants.js';

export interface CheckpointChoice {
  /** A variant name or custom coefficients. Give this or `model`. */
  readonly variant?: VariantName | ScalingCoefficients;
  /** A timm checkpoint name; sets variant, padding and BN eps. */
  readonly model?: string;
  /** Overrides the padding family (default: the preset's, else `same`). */
  readonly padding?: PaddingMode;
  /** Overrides the BN epsilon (default: the preset's, else the padding family's). */
  readonly bnEps?: number;
}

export interface ResolvedCheckpoint {
  readonly network: NetworkSpec;
  readonly padding: PaddingMode;
  readonly bnEps: number;
  readonly preset: CheckpointPreset | null;
}

export function resolveCheckpoint(choice: CheckpointChoice, numClasses: number): ResolvedCheckpoint {
  if ((choice.variant === undefined) === (choice.model === undefined)) {
    throw new ConfigError('give exactly one of `variant` (b0 … l2, lite0 … lite4, v2_b0 … v2_xl) or `model` (a timm checkpoint name)');
  }
  const preset = choice.model !== undefined ? findPreset(choice.model) : null;
  const variant = preset ? preset.variant : choice.variant!;
  if (typeof variant === 'string' && !isVariantName(variant)) {
    throw new ConfigError(`unknown variant "${variant}": expected one of ${VARIANT_LIST}`);
  }
  const padding = choice.padding !== undefined ? parsePaddingMode(choice.padding) : preset?.padding ?? 'same';
  // An explicit padding brings its own family's eps; otherwise the preset's.
  const bnEps = choice.bnEps ?? (choice.padding === undefined && preset ? preset.bnEps : DEFAULT_BN_EPS[padding]);
  if (!Number.isFinite(bnEps) || bnEps <= 0) throw new ConfigError(`bnEps must be a positive number, got ${bnEps}`);
  return { network: buildNetwork(variant, numClasses), padding, bnEps, preset };
}
