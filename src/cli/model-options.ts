/**
 * The options every command that loads a checkpoint shares, parsed into a CheckpointChoice.
 */
import { parsePaddingMode } from '../arch/padding.js';
import type { CheckpointChoice } from '../arch/checkpoint.js';
import { isVariantName, VARIANT_LIST } from '../arch/variants.js';
import { numberOption, UsageError } from './args.js';

export const MODEL_OPTIONS = {
  variant: { type: 'string' },
  model: { type: 'string' },
  weights: { type: 'string' },
  padding: { type: 'string' },
  'bn-eps': { type: 'string' },
} as const;

export function modelChoice(values: { variant?: string; model?: string; padding?: string; 'bn-eps'?: string }): CheckpointChoice {
  if ((values.variant === undefined) === (values.model === undefined)) throw new UsageError('give exactly one of --variant or --model');
  if (values.variant !== undefined && !isVariantName(values.variant)) {
    throw new UsageError(`unknown variant "${values.variant}": expected ${VARIANT_LIST}`);
  }
  return {
    variant: values.variant as CheckpointChoice['variant'],
    model: values.model,
    padding: values.padding === undefined ? undefined : parsePaddingMode(values.padding),
    bnEps: numberOption(values['bn-eps'], '--bn-eps'),
  };
}
