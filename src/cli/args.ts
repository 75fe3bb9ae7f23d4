/**
 * Small helpers over node:util's parseArgs so every command reports bad options the same way.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, InputShapeError } from '../errors.js';
import { closestMatch } from './suggest.js';

/** A command-line mistake: the CLI prints the message and the command's usage, and exits 2. */
export class UsageError extends ConfigError {
  override readonly code: string = 'USAGE';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseOptions<T extends Options, P extends boolean = false>(
  argv: string[], options: T, allowPositionals?: P,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: P; strict: true }>> {
  checkOptionNames(argv, options);
  try {
    return parseArgs({ args: argv, options, allowPositionals: (allowPositionals ?? false) as P, strict: true });
  } catch (error) {
    throw new UsageError(rephrase(error as Error & { code?: string }));
  }
}

/**
 * Every `--name` and `-x` before a `--` terminator must be one of the command's options: otherwise
 * one line naming the closest valid option and listing them all (Node's own text talks about
 * positional arguments starting with '-', which is not the mistake a user made).
 */
function checkOptionNames(argv: readonly string[], options: Options): void {
  const long = Object.keys(options).map((name) => `--${name}`);
  const short = Object.values(options).flatMap((o) => (o.short === undefined ? [] : [`-${o.short}`]));
  for (const arg of argv) {
    if (arg === '--') return;
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) continue; // a value, stdin, or a negative number
    const name = arg.startsWith('--') ? arg.split('=')[0] : arg.slice(0, 2);
    if (long.includes(name) || short.includes(name)) continue;
    const guess = closestMatch(name, long);
    const valid = long.length > 0 ? `valid options: ${long.join(', ')}` : 'this command takes no options';
    throw new UsageError(`unknown option ${name}${guess === null ? '' : ` (did you mean ${guess}?)`}; ${valid}`);
  }
}

/** parseArgs' remaining messages, in the CLI's own words. */
function rephrase(error: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    if (/argument is ambiguous/.test(error.message)) return `option ${option} needs a value; one starting with "-" goes after "=", as in ${option}=-1`;
    return /argument missing/.test(error.message) ? `option ${option} needs a value` : `option ${option} takes no value`;
  }
  const positional = /Unexpected argument '([^']*)'/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && positional !== undefined) {
    return `unexpected argument "${positional}": this command takes only options`;
  }
  return error.message;
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
