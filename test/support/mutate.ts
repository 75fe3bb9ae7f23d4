/**
 * Seeded mutation fuzzing: a mutator that damages valid files the way corruption and hostile
 * authors do, and a loop that runs many cases through a parser and sorts every outcome into
 * "valid", "refused with a typed error" or "failure" (anything else: a raw engine error, a broken
 * promise, a hang, a result that does not hold together).
 *
 * Every case draws from its own generator, seeded from (run seed, case index), so a failing case
 * reproduces from those two numbers alone, whatever ran before it: `new Mutator(caseSeed(seed, i))`.
 */
import { EfficientNetError } from '../../src/errors.js';
import { mulberry32 } from './random.js';

/** Byte values at the edges of the signed and unsigned ranges, where size and sign checks break. */
const INTERESTING_BYTES: readonly number[] = [0x00, 0x01, 0x7f, 0x80, 0xff];

/** 32-bit values at the same edges, for length and size fields. */
export const INTERESTING_U32: readonly number[] = [
  0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

/** Number spellings that JSON and Python-literal readers, and size arithmetic, treat specially. */
const INTERESTING_NUMBERS: readonly string[] = [
  '0', '-1', '1', '2', '3', '255', '256', '65535', '65536', '2147483647', '2147483648', '4294967295', '4294967296',
  '9007199254740991', '9007199254740992', '9007199254740993', '18446744073709551615', '1e308', '1e309', '-0', '0.5',
  '1.5', '1e3', '01', '1' + '0'.repeat(40),
];

/** Tokens any structured text may have swapped in: wrong types, empty and odd strings. */
const GENERIC_TOKENS: readonly string[] = ['""', "''", 'null', 'true', 'false', '[]', '{}', '"\\u0000"', '"\\ud800"', '-', 'NaN', 'None'];

/** Characters whose insertion breaks the structure of JSON and Python literals. */
const STRUCTURE_CHARACTERS = '{}[]():,"\'\\ \n\t';

/**
 * Nesting depths for the "deep value" edit. JSON.parse reads them all; recursive code such as
 * JSON.stringify overflows the stack near 5,000 levels, so the last one is four times past that.
 */
const NESTING_DEPTHS: readonly number[] = [2, 64, 4096, 20_000];

/** A byte range [begin, end) of a file, e.g. a header or one chunk. */
export interface ByteRange {
  readonly begin: number;
  readonly end: number;
}

export interface ByteMutationOptions {
  /** Where most edits land (3 in 4); the rest go anywhere. */
  readonly focus?: ByteRange;
  /** At most this many edits (default 4); each case makes 1 to maxEdits. */
  readonly maxEdits?: number;
  /** Other valid files of the same format, whose chunks may be spliced in. */
  readonly donors?: readonly Uint8Array[];
}

/** A generator of pseudo-random choices and the mutations built from them. */
export class Mutator {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A position in [0, length), inside `focus` three times in four when it is given and not empty. */
  position(length: number, focus?: ByteRange): number {
    if (focus !== undefined && focus.end > focus.begin && this.chance(0.75)) {
      return Math.min(length - 1, focus.begin + this.int(focus.end - focus.begin));
    }
    return this.int(length);
  }

  /** A copy of `bytes` with 1 to `maxEdits` byte-level edits. */
  mutateBytes(bytes: Uint8Array, options: ByteMutationOptions = {}): Uint8Array {
    let result: Uint8Array = bytes.slice();
    const edits = this.between(1, options.maxEdits ?? 4);
    for (let i = 0; i < edits; i++) result = this.editBytes(result, options);
    return result;
  }

  /** A copy of `text` (JSON or a Python literal) with one structural edit. `vocabulary` adds tokens to swap in. */
  mutateText(text: string, vocabulary: readonly string[] = []): string {
    const tokens = [...text.matchAll(/"(?:[^"\\]|\\.)*"|'[^']*'|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_]+/g)];
    const numbers = tokens.filter((token) => /^-?\d/.test(token[0]));
    const replace = (token: RegExpMatchArray, by: string): string =>
      text.slice(0, token.index) + by + text.slice(token.index! + token[0].length);
    const at = this.int(text.length + 1);
    switch (this.int(7)) {
      case 0:
        return numbers.length > 0 ? replace(this.pick(numbers), this.pick(INTERESTING_NUMBERS)) : text + '0';
      case 1:
        return tokens.length > 0 ? replace(this.pick(tokens), this.pick([...vocabulary, ...GENERIC_TOKENS])) : text;
      case 2:
        return text.slice(0, at) + text.slice(at + this.between(1, 8));
      case 3:
        return text.slice(0, at) + this.pick([...STRUCTURE_CHARACTERS]) + text.slice(at);
      case 4: {
        // Repeat one member: the span from a separator to the next, e.g. `,"a":{...}` → a duplicate key.
        const starts = [...text.matchAll(/[{,]/g)].map((match) => match.index!);
        if (starts.length === 0) return text;
        const start = this.pick(starts);
        const end = text.slice(start + 1).search(/[,}]/);
        if (end < 0) return text;
        const member = text.slice(start, start + 1 + end);
        return text.slice(0, start + 1 + end) + ',' + member.slice(1) + text.slice(start + 1 + end);
      }
      case 5: {
        if (tokens.length === 0) return text;
        const depth = this.pick(NESTING_DEPTHS);
        return replace(this.pick(tokens), '['.repeat(depth) + ']'.repeat(depth));
      }
      default:
        return text.slice(0, at);
    }
  }

  private editBytes(bytes: Uint8Array, options: ByteMutationOptions): Uint8Array {
    const { focus, donors = [] } = options;
    if (bytes.length === 0) return this.randomBytes(this.between(1, 16));
    const at = this.position(bytes.length, focus);
    const span = Math.min(bytes.length - at, this.between(1, 16));
    switch (this.int(donors.length > 0 ? 11 : 10)) {
      case 0:
        bytes[at] ^= 1 << this.int(8);
        return bytes;
      case 1:
        bytes[at] = this.pick(INTERESTING_BYTES);
        return bytes;
      case 2:
        bytes[at] = this.int(256);
        return bytes;
      case 3:
        bytes[at] = (bytes[at] + this.between(-16, 16)) & 0xff;
        return bytes;
      case 4: {
        // A 32-bit edge value in either byte order, cut off at the end of the file.
        const value = this.pick(INTERESTING_U32);
        const word = new Uint8Array(4); // [u32]
        new DataView(word.buffer).setUint32(0, value, this.chance(0.5));
        bytes.set(word.subarray(0, Math.min(4, bytes.length - at)), at);
        return bytes;
      }
      case 5:
        return bytes.slice(0, at);
      case 6:
        return concat(bytes, this.chance(0.5) ? this.randomBytes(this.between(1, 64)) : new Uint8Array(this.between(1, 64)).fill(this.pick(INTERESTING_BYTES)));
      case 7:
        return concat(bytes.subarray(0, at), this.randomBytes(span), bytes.subarray(at));
      case 8:
        return concat(bytes.subarray(0, at), bytes.subarray(at + span));
      case 9: {
        // Repeat a chunk of the file somewhere else, e.g. a second header segment.
        const from = this.int(bytes.length);
        const length = Math.min(bytes.length - from, this.between(1, 64));
        return concat(bytes.subarray(0, at), bytes.subarray(from, from + length), bytes.subarray(at));
      }
      default: {
        const donor = this.pick(donors);
        const from = this.int(donor.length);
        const length = Math.min(donor.length - from, this.between(1, 64));
        return concat(bytes.subarray(0, at), donor.subarray(from, from + length), bytes.subarray(at + (this.chance(0.5) ? length : 0)));
      }
    }
  }

  private randomBytes(length: number): Uint8Array {
    const bytes = new Uint8Array(length); // [length]
    for (let i = 0; i < length; i++) bytes[i] = this.int(256);
    return bytes;
  }
}

/** The byte arrays one after another, in one new array. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0)); // [total bytes]
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The seed of case `index` of a run: unrelated streams for neighbouring indices. */
export function caseSeed(runSeed: number, index: number): number {
  return (Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

/**
 * Hang detector, not a performance check: cases take well under 100 ms on a CI runner, so 2 s only
 * trips on a blow-up (such as a walk quadratic in a crafted length) or a promise that never
 * settles. A synchronous loop that never ends cannot be interrupted; vitest's test timeout ends it.
 */
export const CASE_DEADLINE_MS = 2000;

export interface FuzzTarget<Input, Output> {
  /** For the printed summary, e.g. "safetensors". */
  readonly name: string;
  readonly seed: number;
  readonly cases: number;
  /** Case `index`'s input, from its own mutator. */
  generate(mutator: Mutator, index: number): Input;
  /** The parser under test: returns a result or throws; an EfficientNetError is a refusal. */
  run(input: Input): Output | Promise<Output>;
  /** Checks a result the parser accepted; any throw here is a failure, typed or not. */
  checkValid?(output: Output, input: Input): void | Promise<void>;
  /** Runs after each refusal, e.g. to check a codec still decodes valid files; any throw is a failure. */
  afterRefusal?(input: Input, error: EfficientNetError): void | Promise<void>;
}

export interface FuzzReport {
  readonly name: string;
  readonly cases: number;
  readonly valid: number;
  /** Refusals per error class name. */
  readonly refused: ReadonlyMap<string, number>;
  /** The first failures (at most MAX_LISTED_FAILURES); each names its seed and index so it reproduces alone. */
  readonly failures: readonly string[];
  readonly failureCount: number;
  readonly slowestMs: number;
  readonly slowestCase: number;
}

const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.constructor.name}: ${error.message.slice(0, 300)}` : `non-Error ${String(error).slice(0, 300)}`;

/** Rejects if `promise` has not settled after the deadline, so a hung case fails instead of stalling the run. */
async function withinDeadline<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer after ${CASE_DEADLINE_MS} ms (hung)`)), CASE_DEADLINE_MS);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Failures listed in a report; a broken parser fails every case after the first, and one page of them is enough. */
const MAX_LISTED_FAILURES = 30;

/** Runs every case of `target` and sorts the outcomes; never throws for a case. */
export async function fuzz<Input, Output>(target: FuzzTarget<Input, Output>): Promise<FuzzReport> {
  const refused = new Map<string, number>();
  const failures: string[] = [];
  let failureCount = 0;
  const fail = (line: string): void => {
    failureCount++;
    if (failures.length < MAX_LISTED_FAILURES) failures.push(line);
  };
  let valid = 0;
  let slowestMs = 0;
  let slowestCase = -1;
  for (let index = 0; index < target.cases; index++) {
    const where = `${target.name} case ${index} (seed ${target.seed})`;
    const input = target.generate(new Mutator(caseSeed(target.seed, index)), index);
    const start = performance.now();
    let outcome: { output: Output } | { error: unknown };
    try {
      outcome = { output: await withinDeadline(Promise.resolve().then(() => target.run(input))) };
    } catch (error) {
      outcome = { error };
    }
    const elapsed = performance.now() - start;
    if (elapsed > slowestMs) [slowestMs, slowestCase] = [elapsed, index];
    if (elapsed > CASE_DEADLINE_MS) fail(`${where}: took ${elapsed.toFixed(0)} ms`);
    try {
      if ('output' in outcome) {
        await target.checkValid?.(outcome.output, input);
        valid++;
      } else if (outcome.error instanceof EfficientNetError) {
        const { error } = outcome;
        // Refused clearly: a message a user can read, on one line, as the CLI prints it.
        if (error.message.length === 0 || error.message.includes('\n')) throw new Error(`unclear refusal ${JSON.stringify(error.message.slice(0, 300))}`);
        refused.set(error.constructor.name, (refused.get(error.constructor.name) ?? 0) + 1);
        await target.afterRefusal?.(input, error);
      } else {
        fail(`${where}: ${describeError(outcome.error)}`);
      }
    } catch (error) {
      fail(`${where}: ${'output' in outcome ? 'accepted result fails its check' : 'after the refusal'}: ${describeError(error)}`);
    }
  }
  return { name: target.name, cases: target.cases, valid, refused, failures, failureCount, slowestMs, slowestCase };
}

/** One line for the test log, e.g. "fuzz npy: 10000 cases, 9873 refused with typed errors (…), 127 valid". */
export function summarize(report: FuzzReport): string {
  const refusedTotal = [...report.refused.values()].reduce((a, b) => a + b, 0);
  const byClass = [...report.refused].map(([name, count]) => `${name} ${count}`).join(', ');
  return `fuzz ${report.name}: ${report.cases} cases, ${refusedTotal} refused with typed errors (${byClass}), ` +
    `${report.valid} valid, ${report.failureCount} failures; slowest case #${report.slowestCase} ${report.slowestMs.toFixed(1)} ms`;
}
