/**
 * Writing safetensors files (layout described in `safetensors.ts`).
 *
 * The output is sized from the shapes first and allocated once, so writing a 1.9 GB model needs
 * no second copy. Tensors appear in the order given (the header JSON is assembled by hand because
 * a JS object would move integer-like names to the front). The header is padded with spaces to a
 * multiple of 8 bytes, so the data section, and every F32 tensor in an all-F32 file, starts
 * 8-byte aligned, as the reference writer does.
 */
import { WeightsFormatError } from '../errors.js';
import { encodeBfloat16Into, encodeFloat16Into } from './float16.js';
import { elementCount, formatShape } from './safetensors.js';

export type WritableDtype = 'F32' | 'F16' | 'BF16';

const WRITABLE_DTYPE_BYTES: Readonly<Record<WritableDtype, number>> = { F32: 4, F16: 2, BF16: 2 };

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** Overrides `WriteOptions.dtype` for this tensor. */
  readonly dtype?: WritableDtype;
}

export interface TensorToWrite extends TensorSpec {
  readonly data: Float32Array; // [elementCount(shape)], row-major
}

export interface WriteOptions {
  /** Storage dtype for tensors that do not name one; F16 and BF16 round to nearest, ties to even. */
  readonly dtype?: WritableDtype;
}

interface PlacedTensor<Spec extends TensorSpec = TensorSpec> {
  readonly spec: Spec;
  readonly dtype: WritableDtype;
  readonly count: number;
  /** Absolute byte offset in the output. */
  readonly begin: number;
}

interface Layout<Spec extends TensorSpec> {
  readonly output: Uint8Array;
  readonly placed: readonly PlacedTensor<Spec>[];
}

function checkSpec(spec: TensorSpec, seen: Set<string>): void {
  const where = `cannot write tensor "${spec.name}"`;
  if (spec.name === '__metadata__') {
    throw new WeightsFormatError(`${where}: the name is reserved for the metadata map`);
  }
  if (seen.has(spec.name)) {
    throw new WeightsFormatError(`${where}: the name appears more than once; expected unique names`);
  }
  seen.add(spec.name);
  if (!spec.shape.every((size) => Number.isSafeInteger(size) && size >= 0)) {
    throw new WeightsFormatError(`${where}: shape ${formatShape(spec.shape)} must hold non-negative integers`);
  }
  if (spec.dtype !== undefined && !Object.hasOwn(WRITABLE_DTYPE_BYTES, spec.dtype)) {
    throw new WeightsFormatError(`${where}: dtype "${spec.dtype}" is not one of F32, F16, BF16`);
  }
}

function checkMetadata(metadata: Record<string, string>): void {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new WeightsFormatError(`cannot write metadata "${key}": the value must be a string, got ${typeof value}`);
    }
  }
}

/**
 * Header text, byte offsets and the one output allocation, from shapes alone. Every check runs
 * before the allocation, so a bad request fails without first reserving gigabytes.
 */
function layOut<Spec extends TensorSpec>(
  specs: Iterable<Spec>,
  metadata: Record<string, string> | undefined,
  defaultDtype: WritableDtype,
  checkCount: (spec: Spec, count: number) => void = () => {},
): Layout<Spec> {
  const seen = new Set<string>();
  const headerParts: string[] = [];
  if (metadata !== undefined) {
    checkMetadata(metadata);
    headerParts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  const pending: (Omit<PlacedTensor<Spec>, 'begin'> & { readonly dataOffset: number })[] = [];
  let dataOffset = 0;
  for (const spec of specs) {
    checkSpec(spec, seen);
    const dtype = spec.dtype ?? defaultDtype;
    const count = elementCount(spec.shape);
    checkCount(spec, count);
    const byteLength = count * WRITABLE_DTYPE_BYTES[dtype];
    const entry = { dtype, shape: spec.shape, data_offsets: [dataOffset, dataOffset + byteLength] };
    headerParts.push(`${JSON.stringify(spec.name)}:${JSON.stringify(entry)}`);
    pending.push({ spec, dtype, count, dataOffset });
    dataOffset += byteLength;
  }
  const headerText = new TextEncoder().encode(`{${headerParts.join(',')}}`);
  const headerLength = Math.ceil(headerText.length / 8) * 8;
  const dataStart = 8 + headerLength;
  const output = new Uint8Array(dataStart + dataOffset); // [file bytes]
  new DataView(output.buffer).setBigUint64(0, BigInt(headerLength), true);
  output.set(headerText, 8);
  output.fill(0x20 /* space */, 8 + headerText.length, dataStart);
  const placed = pending.map(({ spec, dtype, count, dataOffset: offset }) => ({ spec, dtype, count, begin: dataStart + offset }));
  return { output, placed };
}

function encodeInto(values: Float32Array, tensor: PlacedTensor, output: Uint8Array): void {
  if (tensor.dtype === 'F32') {
    // Little-endian host assumed, as for every JS view on WebAssembly memory.
    output.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), tensor.begin);
  } else if (tensor.dtype === 'F16') {
    encodeFloat16Into(values, output, tensor.begin);
  } else {
    encodeBfloat16Into(values, output, tensor.begin);
  }
}

/** Serialises float32 tensors (stored as F32, F16 or BF16) into one new safetensors file. */
export function writeSafetensors(
  tensors: Iterable<TensorToWrite>,
  metadata?: Record<string, string>,
  options: WriteOptions = {},
): Uint8Array {
  const { output, placed } = layOut(tensors, metadata, options.dtype ?? 'F32', (tensor, count) => {
    if (tensor.data.length !== count) {
      throw new WeightsFormatError(
        `cannot write tensor "${tensor.name}": shape ${formatShape(tensor.shape)} has ` +
          `${count} elements but the data has ${tensor.data.length}`,
      );
    }
  });
  for (const tensor of placed) encodeInto(tensor.spec.data, tensor, output);
  return output;
}

/** F32 data 4-byte aligned in the output can be filled through a Float32Array view on it. */
const fillsInPlace = (tensor: PlacedTensor): boolean => tensor.dtype === 'F32' && tensor.begin % 4 === 0;

/**
 * Allocates the file once and lets `fill` write each tensor's float32 values, in spec order.
 * For F32 storage `target` is a view straight into the output (with only F32 tensors, the header
 * padding keeps every one aligned); otherwise it is one reused scratch buffer, encoded into the
 * output after each call.
 */
export function writeSafetensorsFrom(
  specs: Iterable<TensorSpec>,
  fill: (name: string, target: Float32Array) => void,
  metadata?: Record<string, string>,
  options: WriteOptions = {},
): Uint8Array {
  const { output, placed } = layOut(specs, metadata, options.dtype ?? 'F32');
  const scratchLength = placed.reduce((longest, tensor) => (fillsInPlace(tensor) ? longest : Math.max(longest, tensor.count)), 0);
  const scratch = new Float32Array(scratchLength); // [largest tensor not filled in place]
  for (const tensor of placed) {
    if (fillsInPlace(tensor)) {
      fill(tensor.spec.name, new Float32Array(output.buffer, tensor.begin, tensor.count));
    } else {
      const target = scratch.subarray(0, tensor.count);
      fill(tensor.spec.name, target);
      encodeInto(target, tensor, output);
    }
  }
  return output;
}
