/**
 * Small helpers over node:util's parseArgs so every command reports bad options the same way.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, InputShapeError } from '../errors.js';

/** A command-line mistake: the CLI prints the message and the command's usage, and exits 2. */
export class UsageError extends ConfigError {
  override readonly code: string = 'USAGE';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseOptions<T extends Options, P extends boolean = false>(
  argv: string[], options: T, allowPositionals?: P,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: P; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: (allowPositionals ?? false) as P, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function requireOption<V>(value: V | undefined, flag: string): V {
  if (value === undefined) throw new UsageError(`missing required option ${flag}`);
  return value;
}

/** Parses a strictly positive integer option such as `--batch 8`. */
export function integerOption(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InputShapeError(`${flag} must be a positive integer, got "${value}"`);
  return parsed;
}

export function numberOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return parsed;
}
