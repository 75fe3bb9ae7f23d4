/**
 * Checks a parsed weights file against the tensors a network expects, and reports every problem
 * in one error: a user fixing a wrong file wants the whole picture, not one name per attempt.
 */
import { WeightsMismatchError } from '../errors.js';
import { FLOAT_DTYPES, formatShape, isFloatDtype } from './safetensors.js';
import type { WeightSource } from './source.js';

export interface ExpectedTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface MatchOptions {
  /** File tensors to leave out of the "unexpected" list; replaces the default `ignoreBatchNormCounters`. */
  readonly ignore?: (name: string) => boolean;
  /** What the file is being matched against, for the message, e.g. "timm tf_efficientnet_b0". */
  readonly describe?: string;
}

/** PyTorch BatchNorm's training-step counter: an integer scalar that inference never reads. */
export const ignoreBatchNormCounters = (name: string): boolean => name.endsWith('.num_batches_tracked');

/** Entries listed per category; the rest are counted, so a wholly wrong file still gives a readable message. */
const LISTED_PER_CATEGORY = 20;

function listSome(items: readonly string[]): string {
  const listed = items.slice(0, LISTED_PER_CATEGORY).join(', ');
  const rest = items.length - LISTED_PER_CATEGORY;
  return rest > 0 ? `${listed}, … and ${rest} more` : listed;
}

/**
 * A prefix that most missing names gain in the file (such as "model." or "module." from a
 * wrapper), or undefined. Guessed from the first missing name, then confirmed on all of them.
 */
function sharedPrefix(missing: readonly string[], unexpected: readonly string[]): string | undefined {
  const [first] = missing;
  const candidate = unexpected.find((name) => name.endsWith(`.${first}`));
  if (first === undefined || candidate === undefined) return undefined;
  const prefix = candidate.slice(0, candidate.length - first.length);
  const present = new Set(unexpected);
  const prefixed = missing.filter((name) => present.has(prefix + name)).length;
  return prefixed * 2 > missing.length ? prefix : undefined;
}

function hint(
  expectedCount: number,
  missing: readonly string[],
  unexpected: readonly string[],
  misshapenCount: number,
): string | undefined {
  const prefix = sharedPrefix(missing, unexpected);
  if (prefix !== undefined) {
    return `hint: the file's names carry the prefix "${prefix}"; strip it before loading`;
  }
  if (missing.length * 2 > expectedCount) {
    return 'hint: most expected tensors are missing, so this file looks like a different architecture or variant';
  }
  const presentCount = expectedCount - missing.length;
  if (misshapenCount * 2 > presentCount) {
    return 'hint: the names match but most shapes differ, so this file looks like a different variant (width)';
  }
  return undefined;
}

/** Throws one WeightsMismatchError naming every missing, unexpected, mis-shaped and non-float tensor. */
export function matchTensors(
  file: WeightSource,
  expected: readonly ExpectedTensor[],
  options: MatchOptions = {},
): void {
  const ignore = options.ignore ?? ignoreBatchNormCounters;
  const expectedNames = new Set(expected.map((tensor) => tensor.name));
  const missing: ExpectedTensor[] = [];
  const misshapen: string[] = [];
  const notFloat: string[] = [];
  for (const tensor of expected) {
    const entry = file.tensors.get(tensor.name);
    if (entry === undefined) {
      missing.push(tensor);
      continue;
    }
    const sameShape = entry.shape.length === tensor.shape.length && entry.shape.every((size, axis) => size === tensor.shape[axis]);
    if (!sameShape) {
      misshapen.push(`${tensor.name} expected ${formatShape(tensor.shape)} but file has ${formatShape(entry.shape)}`);
    }
    if (!isFloatDtype(entry.dtype)) notFloat.push(`${tensor.name} (${entry.dtype})`);
  }
  const unexpected = [...file.tensors.values()].filter((entry) => !expectedNames.has(entry.name) && !ignore(entry.name));
  if (missing.length + unexpected.length + misshapen.length + notFloat.length === 0) return;

  const parts = [
    `weights file does not match ${options.describe ?? 'the network'}: ` +
      `${missing.length} missing, ${unexpected.length} unexpected, ${misshapen.length} with the wrong shape, ` +
      `${notFloat.length} not float`,
  ];
  if (missing.length > 0) {
    parts.push(`missing: ${listSome(missing.map((tensor) => `${tensor.name} ${formatShape(tensor.shape)}`))}`);
  }
  if (unexpected.length > 0) {
    parts.push(`unexpected: ${listSome(unexpected.map((entry) => `${entry.name} ${formatShape(entry.shape)}`))}`);
  }
  if (misshapen.length > 0) parts.push(`wrong shape: ${listSome(misshapen)}`);
  if (notFloat.length > 0) parts.push(`not float (expected ${FLOAT_DTYPES.join(', ')}): ${listSome(notFloat)}`);
  const advice = hint(
    expected.length,
    missing.map((tensor) => tensor.name),
    unexpected.map((entry) => entry.name),
    misshapen.length,
  );
  if (advice !== undefined) parts.push(advice);
  // One line, as every error in the project, so the CLI can print it as is.
  throw new WeightsMismatchError(parts.join('; '));
}
