/**
 * Reading safetensors files: https://github.com/huggingface/safetensors (format section).
 *
 *   bytes [0, 8)        N, the header length, unsigned 64-bit little-endian
 *   bytes [8, 8 + N)    UTF-8 JSON object: tensor name -> {dtype, shape, data_offsets: [begin, end]},
 *                       plus an optional "__metadata__" string -> string map; may end in spaces
 *   bytes [8 + N, end)  the data section; offsets are relative to its start
 *
 * The file comes from the internet, so the header is checked as strictly as the reference Rust
 * implementation checks it (same 100 MB header cap, tensors contiguous from 0 and covering the
 * data section exactly), plus duplicate keys, which `JSON.parse` would silently resolve to the
 * last one. Tensor data is never copied at parse time: entries are byte ranges into `bytes`.
 *
 * Multi-byte values are little-endian in the file. Copying F32 bytes straight into a
 * `Float32Array` assumes a little-endian host, as does every JS view on WebAssembly memory.
 */
import { WeightsFormatError, WeightsMismatchError } from '../errors.js';
import { memoryByteSource } from './byte-source.js';
import { decodeBfloat16Into, decodeFloat16Into } from './float16.js';
import type { ByteSource, SourceNormalization, WeightSource } from './source.js';

export const SAFETENSORS_DTYPES = [
  'F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL', 'F8_E4M3', 'F8_E5M2',
] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1,
  U8: 1, U16: 2, U32: 4, U64: 8, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

/** Same cap as the reference implementation: a bigger header is far more likely an attack than a model. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** Metadata keys holding a converted Keras file's input normalisation, as JSON arrays of 3 numbers. */
export const NORMALIZATION_MEAN_KEY = 'normalization_mean';
export const NORMALIZATION_STD_KEY = 'normalization_std';

/** The normalisation recorded in metadata, if both keys hold three finite numbers (std positive). */
function normalizationFrom(metadata: Record<string, string>): SourceNormalization | undefined {
  const triple = (key: string): [number, number, number] | undefined => {
    const text = metadata[key];
    if (text === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        return value as [number, number, number];
      }
    } catch {
      // Not JSON: treated as absent, like any other free-form metadata.
    }
    return undefined;
  };
  const mean = triple(NORMALIZATION_MEAN_KEY);
  const std = triple(NORMALIZATION_STD_KEY);
  return mean && std && std.every((v) => v > 0) ? { mean, std } : undefined;
}

export interface TensorEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute byte offset of the first data byte in `SafetensorsFile.bytes`. */
  readonly begin: number;
  /** Absolute byte offset one past the last data byte. */
  readonly end: number;
}

/** A safetensors file read by range: one implementation of the weight-source interface. */
export interface SafetensorsSource extends WeightSource {
  readonly format: 'safetensors';
  /**
   * In data order. (Header order is not recoverable in general: JSON.parse moves integer-like
   * keys such as "0" to the front of an object.)
   */
  readonly tensors: ReadonlyMap<string, TensorEntry>;
  readonly metadata: Record<string, string>;
  /** Absolute byte offset of the data section (8 + header length). */
  readonly dataStart: number;
}

/** A safetensors file held in memory; its tensors are byte ranges of `bytes`, never copies. */
export interface SafetensorsFile extends SafetensorsSource {
  readonly bytes: Uint8Array;
}

/** Whether `readTensorAsFloat32` can decode this dtype. */
export function isFloatDtype(dtype: SafetensorsDtype): boolean {
  return FLOAT_DECODERS[dtype] !== undefined;
}

export function dtypeByteSize(dtype: SafetensorsDtype): number {
  return DTYPE_BYTES[dtype];
}

/** Number of elements of a shape; `[]` is a scalar (1 element). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Header text is untrusted and may be huge: messages quote at most this many characters of it. */
const MAX_QUOTED_CHARS = 120;

/** JSON text of a header value or name for a message: escaped (so it stays one line) and cut short. */
function quote(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'nothing';
  } catch {
    // JSON.parse reads arrays nested far deeper than JSON.stringify can write them: that recurses
    // and overflows the stack near 5,000 levels (a RangeError, found by fuzzing). Describe such a value.
    text = 'a value nested too deeply to quote';
  }
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
}

const isKnownDtype = (value: string): value is SafetensorsDtype =>
  (SAFETENSORS_DTYPES as readonly string[]).includes(value);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isNonNegativeSafeInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function readHeaderLength(bytes: ByteSource): number {
  if (bytes.length < 8) {
    throw new WeightsFormatError(
      `not a safetensors file: ${bytes.length} bytes, expected at least 8 for the header length`,
    );
  }
  const lengthField = bytes.read(0, 8); // [u64 little-endian]
  const view = new DataView(lengthField.buffer, lengthField.byteOffset, 8);
  // Two 32-bit halves: exact for every length below 2^53, and anything larger fails the cap anyway.
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength === 0) {
    throw new WeightsFormatError('safetensors header length is 0; expected a JSON object of at least 2 bytes');
  }
  if (headerLength > MAX_HEADER_BYTES) {
    throw new WeightsFormatError(
      `safetensors header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit ` +
        '(the file is corrupt or not a safetensors file)',
    );
  }
  if (8 + headerLength > bytes.length) {
    throw new WeightsFormatError(
      `safetensors header length ${headerLength} runs past the end of the ${bytes.length}-byte file ` +
        '(the file is truncated or not a safetensors file)',
    );
  }
  return headerLength;
}

function decodeHeaderJson(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    // ignoreBOM keeps a leading byte-order mark in the text, where JSON.parse rejects it as the
    // reference implementation does, instead of silently dropping it.
    // Browsers refuse to decode views on shared memory (a threaded WebAssembly memory), so such a
    // header is copied first; it is at most MAX_HEADER_BYTES.
    const decodable = headerBytes.buffer instanceof ArrayBuffer ? headerBytes : headerBytes.slice();
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(decodable);
  } catch {
    throw new WeightsFormatError('safetensors header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // The engine's message quotes the header text around the fault, line breaks included (found by
    // fuzzing); escape control characters so the error stays on one line.
    const reason = (error instanceof Error ? error.message : String(error))
      .replace(/[\u0000-\u001f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
    throw new WeightsFormatError(`safetensors header is not valid JSON: ${reason}`);
  }
  if (!isPlainObject(parsed)) {
    const kind = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    throw new WeightsFormatError(`safetensors header is ${kind}; expected a JSON object of tensor entries`);
  }
  rejectDuplicateKeys(text);
  return parsed;
}

/**
 * Duplicate keys: JSON.parse keeps the last of two equal keys, so two readers could disagree on
 * which tensor a name means. This walks the already-validated JSON text once, tracking for each
 * open object the keys seen so far; a string directly after `{` or after `,` inside an object is
 * a key. Keys are compared after unescaping, so `"a"` and `"\u0061"` collide as they do in JSON.parse.
 */
function rejectDuplicateKeys(json: string): void {
  interface Frame { readonly keys: Set<string> | null; readonly owner: string | null; expectingKey: boolean }
  const frames: Frame[] = [];
  let lastKey: string | null = null;
  for (let i = 0; i < json.length; i += 1) {
    const code = json.charCodeAt(i);
    const top = frames[frames.length - 1];
    if (code === 0x22 /* " */) {
      let close = i + 1;
      while (json.charCodeAt(close) !== 0x22) close += json.charCodeAt(close) === 0x5c /* \ */ ? 2 : 1;
      if (top?.keys && top.expectingKey) {
        const key = JSON.parse(json.slice(i, close + 1)) as string;
        if (top.keys.has(key)) {
          throw new WeightsFormatError(
            top.owner === null
              ? `safetensors header lists tensor ${quote(key)} more than once; expected unique names`
              : `safetensors header entry ${quote(top.owner)} has the field ${quote(key)} more than once; expected unique fields`,
          );
        }
        top.keys.add(key);
        top.expectingKey = false;
        lastKey = key;
      }
      i = close;
    } else if (code === 0x7b /* { */) {
      frames.push({ keys: new Set(), owner: frames.length === 0 ? null : lastKey, expectingKey: true });
    } else if (code === 0x5b /* [ */) {
      frames.push({ keys: null, owner: null, expectingKey: false });
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      frames.pop();
    } else if (code === 0x2c /* , */ && top?.keys) {
      top.expectingKey = true;
    }
  }
}

function parseMetadata(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) {
    throw new WeightsFormatError(`safetensors "${METADATA_KEY}" must be an object of strings, got ${quote(value)}`);
  }
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') {
      throw new WeightsFormatError(
        `safetensors "${METADATA_KEY}" value for ${quote(key)} must be a string, got ${quote(entry)}`,
      );
    }
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays an ordinary key.
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

interface RelativeEntry { readonly name: string; readonly dtype: SafetensorsDtype; readonly shape: number[]; readonly begin: number; readonly end: number }

function parseEntry(name: string, value: unknown): RelativeEntry {
  const where = `safetensors tensor ${quote(name)}`;
  if (!isPlainObject(value)) {
    throw new WeightsFormatError(`${where}: expected an object {dtype, shape, data_offsets}, got ${quote(value)}`);
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') {
    throw new WeightsFormatError(`${where}: "dtype" must be a string, got ${quote(dtype)}`);
  }
  if (!isKnownDtype(dtype)) {
    throw new WeightsFormatError(`${where}: unknown dtype ${quote(dtype)}; expected one of ${SAFETENSORS_DTYPES.join(', ')}`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) {
    throw new WeightsFormatError(
      `${where}: "shape" must be an array of non-negative integers, got ${quote(shape)}`,
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeSafeInteger)) {
    throw new WeightsFormatError(
      `${where}: "data_offsets" must be [begin, end] with non-negative integers, got ${quote(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) {
    throw new WeightsFormatError(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  }
  // A zero anywhere makes the tensor empty; otherwise the product must stay exact to compare sizes.
  const count = shape.includes(0) ? 0 : elementCount(shape);
  if (!Number.isSafeInteger(count * DTYPE_BYTES[dtype])) {
    throw new WeightsFormatError(`${where}: shape ${formatShape(shape)} is too large to address`);
  }
  const expectedBytes = count * DTYPE_BYTES[dtype];
  if (end - begin !== expectedBytes) {
    throw new WeightsFormatError(
      `${where}: dtype ${dtype} with shape ${formatShape(shape)} needs ${expectedBytes} bytes, ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype, shape: [...shape] as number[], begin, end };
}

/**
 * Tensors must tile the data section: sorted by offset, each starts where the previous ended.
 * Returns them in that order.
 */
function sortAndCheckLayout(entries: readonly RelativeEntry[], dataLength: number): RelativeEntry[] {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let previous: RelativeEntry | undefined;
  for (const entry of sorted) {
    const expectedBegin = previous?.end ?? 0;
    if (entry.begin !== expectedBegin) {
      const after = previous ? `right after tensor ${quote(previous.name)}` : 'at the start of the data section';
      const problem = entry.begin > expectedBegin ? 'leaving a gap' : 'overlapping it';
      throw new WeightsFormatError(
        `safetensors tensor ${quote(entry.name)} starts at data offset ${entry.begin}, ${problem}; ` +
          `expected offset ${expectedBegin} (${after}), as tensors must be contiguous`,
      );
    }
    previous = entry;
  }
  const coveredLength = previous?.end ?? 0;
  if (coveredLength !== dataLength) {
    const last = previous ? `tensor ${quote(previous.name)} ends` : 'there are no tensors, so the data ends';
    throw new WeightsFormatError(
      `safetensors data section is ${dataLength} bytes but ${last} at offset ${coveredLength}; ` +
        'expected the tensors to cover the data section exactly (the file is truncated or has trailing bytes)',
    );
  }
  return sorted;
}

/** Validates the header and indexes the tensors; the data stays where it is in `bytes`. */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  return { ...openSafetensors(memoryByteSource(bytes)), bytes };
}

/**
 * Validates the header (read by range: only its bytes are fetched) and indexes the tensors;
 * `readInto` then reads one tensor's byte range at a time.
 */
export function openSafetensors(bytes: ByteSource): SafetensorsSource {
  const headerLength = readHeaderLength(bytes);
  const dataStart = 8 + headerLength;
  const header = decodeHeaderJson(bytes.read(8, headerLength));
  let metadata: Record<string, string> = {};
  const entries: RelativeEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value);
    else entries.push(parseEntry(name, value));
  }
  const tensors = new Map<string, TensorEntry>();
  for (const entry of sortAndCheckLayout(entries, bytes.length - dataStart)) {
    tensors.set(entry.name, { ...entry, begin: dataStart + entry.begin, end: dataStart + entry.end });
  }
  const readInto = (name: string, target: Float32Array): void => {
    const entry = findTensor(tensors, name);
    const decode = floatDecoder(entry);
    checkDestination(entry, target);
    decode(bytes.read(entry.begin, entry.end - entry.begin), 0, target);
  };
  const normalization = normalizationFrom(metadata);
  return { format: 'safetensors', tensors, metadata, dataStart, readInto, ...(normalization ? { normalization } : {}) };
}

type FloatDecoder = (bytes: Uint8Array, begin: number, target: Float32Array) => void;

const FLOAT_DECODERS: Readonly<Partial<Record<SafetensorsDtype, FloatDecoder>>> = {
  // A byte copy works at any alignment of the source; the target is a Float32Array, so aligned.
  F32: (bytes, begin, target) =>
    new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes.subarray(begin, begin + target.byteLength)),
  F16: decodeFloat16Into,
  BF16: decodeBfloat16Into,
  F64: (bytes, begin, target) => {
    // Storing into the Float32Array rounds each value to the nearest float32, ties to even.
    const source = new DataView(bytes.buffer, bytes.byteOffset + begin, target.length * 8);
    for (let i = 0; i < target.length; i += 1) target[i] = source.getFloat64(i * 8, true);
  },
};

/** The dtypes `readTensorAsFloat32` decodes; every other dtype is refused. */
export const FLOAT_DTYPES = Object.keys(FLOAT_DECODERS) as readonly SafetensorsDtype[];

function findTensor(tensors: ReadonlyMap<string, TensorEntry>, name: string): TensorEntry {
  const entry = tensors.get(name);
  if (entry === undefined) {
    throw new WeightsMismatchError(`tensor "${name}" is not in the weights file`);
  }
  return entry;
}

function floatDecoder(entry: TensorEntry): FloatDecoder {
  const decode = FLOAT_DECODERS[entry.dtype];
  if (decode === undefined) {
    throw new WeightsFormatError(
      `tensor "${entry.name}" has dtype ${entry.dtype}, which is not a supported float dtype; ` +
        `expected one of ${FLOAT_DTYPES.join(', ')}`,
    );
  }
  return decode;
}

function checkDestination(entry: TensorEntry, target: Float32Array): void {
  const count = (entry.end - entry.begin) / DTYPE_BYTES[entry.dtype];
  if (target.length !== count) {
    throw new WeightsMismatchError(
      `tensor "${entry.name}" has shape ${formatShape(entry.shape)} (${count} elements), ` +
        `but the destination holds ${target.length} elements`,
    );
  }
}

/**
 * Decodes a float tensor into `target`, which must hold exactly its element count (for example a
 * view on WebAssembly memory, so the values land there without an intermediate copy).
 */
export function readTensorInto(file: SafetensorsSource, name: string, target: Float32Array): void {
  file.readInto(name, target);
}

/** Decodes a float tensor into a new Float32Array. */
export function readTensorAsFloat32(file: SafetensorsSource, name: string): Float32Array {
  const entry = findTensor(file.tensors, name);
  floatDecoder(entry);
  const target = new Float32Array((entry.end - entry.begin) / DTYPE_BYTES[entry.dtype]); // [elements]
  file.readInto(name, target);
  return target;
}
