import { describe, expect, it } from 'vitest';
import { WeightsFormatError, WeightsMismatchError } from '../../src/errors.js';
import { decodeBfloat16Into, decodeFloat16Into, encodeBfloat16Into, encodeFloat16Into } from '../../src/weights/float16.js';
import {
  MAX_HEADER_BYTES,
  parseSafetensors,
  readTensorAsFloat32,
  readTensorInto,
} from '../../src/weights/safetensors.js';
import { writeSafetensors, writeSafetensorsFrom, type WritableDtype } from '../../src/weights/safetensors-writer.js';

/** A raw file: declared header length (default: the real one), header text or bytes, data bytes. */
function craftFile(header: string | Uint8Array, data: Uint8Array | number = 0, declaredLength?: number): Uint8Array {
  const headerBytes = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const dataBytes = typeof data === 'number' ? new Uint8Array(data) : data;
  const file = new Uint8Array(8 + headerBytes.length + dataBytes.length); // [file bytes]
  new DataView(file.buffer).setBigUint64(0, BigInt(declaredLength ?? headerBytes.length), true);
  file.set(headerBytes, 8);
  file.set(dataBytes, 8 + headerBytes.length);
  return file;
}

const entry = (dtype: string, shape: unknown, offsets: unknown): string =>
  JSON.stringify({ dtype, shape, data_offsets: offsets });

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Trailing spaces (allowed by the format) so that the data section starts at an odd offset. */
const padToOddLength = (header: string): string => header.padEnd(header.length % 2 === 0 ? header.length + 1 : header.length, ' ');

/** Deterministic pseudo-random floats in [-scale, scale) (a 32-bit LCG; no Math.random in tests). */
function sampleFloats(count: number, seed: number, scale = 4): Float32Array {
  const values = new Float32Array(count); // [count]
  let state = seed >>> 0;
  for (let i = 0; i < count; i += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state / 2 ** 32 - 0.5) * 2 * scale;
  }
  return values;
}

function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/** Textbook value of an F16 pattern, written independently of src/weights/float16.ts. */
function referenceFloat16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Textbook value of a BF16 pattern (float32 with 7 fraction bits). */
function referenceBfloat16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 7) & 0xff;
  const fraction = bits & 0x7f;
  if (exponent === 0xff) return fraction === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * fraction * 2 ** -133;
  return sign * (1 + fraction / 128) * 2 ** (exponent - 127);
}

/** Every 16-bit pattern 0..65535 as little-endian bytes. */
function allHalfPatterns(): Uint8Array {
  const bytes = new Uint8Array(65536 * 2); // [65536 patterns, 2 bytes]
  for (let bits = 0; bits < 65536; bits += 1) {
    bytes[2 * bits] = bits & 0xff;
    bytes[2 * bits + 1] = bits >> 8;
  }
  return bytes;
}

/**
 * Compares decoded values with the reference: numbers exactly (Object.is, so -0 counts), NaN by
 * its float32 bits, which must keep the sign and carry the 16-bit payload at the top of the
 * float32 fraction (`payloadShift` = 23 - the half format's fraction bits).
 */
function expectDecodedExactly(decoded: Float32Array, reference: (bits: number) => number, payloadShift: number, fractionMask: number): void {
  const decodedBits = bitsOf(decoded);
  const mismatches: number[] = [];
  for (let bits = 0; bits < 65536; bits += 1) {
    const expected = reference(bits);
    const ok = Number.isNaN(expected)
      ? decodedBits[bits] === (((bits & 0x8000) << 16) | 0x7f800000 | ((bits & fractionMask) << payloadShift)) >>> 0
      : Object.is(decoded[bits], expected);
    if (!ok) mismatches.push(bits);
  }
  expect(mismatches).toEqual([]);
}

describe('F16 and BF16 decoding', () => {
  it('decodes all 65536 F16 patterns exactly, including subnormals, infinities and NaN payloads', () => {
    const decoded = new Float32Array(65536); // [patterns]
    decodeFloat16Into(allHalfPatterns(), 0, decoded);
    expectDecodedExactly(decoded, referenceFloat16, 13, 0x3ff);
  });

  it('decodes all 65536 BF16 patterns exactly', () => {
    const decoded = new Float32Array(65536); // [patterns]
    decodeBfloat16Into(allHalfPatterns(), 0, decoded);
    expectDecodedExactly(decoded, referenceBfloat16, 16, 0x7f);
  });

  it('reads F16 and BF16 tensors through a file, at an odd byte offset', () => {
    for (const [dtype, reference] of [['F16', referenceFloat16], ['BF16', referenceBfloat16]] as const) {
      const patterns = allHalfPatterns();
      const header = padToOddLength(`{"t":${entry(dtype, [65536], [0, patterns.length])}}`);
      const file = parseSafetensors(craftFile(header, patterns));
      expect(file.dataStart % 2).toBe(1);
      const decoded = readTensorAsFloat32(file, 't');
      for (const bits of [0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0x8001, 0xc000, 0x7c00, 0xfc00]) {
        expect(Object.is(decoded[bits], reference(bits))).toBe(true);
      }
    }
  });
});

/**
 * Rounding checks from the format's own grid: for each pair of neighbouring positive values a < b
 * (pattern h and h + 1), the midpoint must go to the one with the even pattern, and the float32
 * values just below and above the midpoint to a and b. Midpoints are exact in float32 because
 * both half formats have at most 11 significant bits. The pair above the largest finite value
 * has b = infinity, which checks the overflow threshold too.
 */
function expectRoundsToNearestEven(
  encode: (source: Float32Array, target: Uint8Array, offset: number) => void,
  reference: (bits: number) => number,
  largestFinitePattern: number,
): void {
  const pairCount = largestFinitePattern + 1;
  const lower = new Float32Array(pairCount); // [pairs]
  const midpoint = new Float32Array(pairCount); // [pairs]
  for (let h = 0; h < pairCount; h += 1) {
    lower[h] = reference(h);
    // Above the largest finite value the next grid point is one ulp further (the spacing is constant within a binade).
    const upper = h === largestFinitePattern ? 2 * reference(h) - reference(h - 1) : reference(h + 1);
    midpoint[h] = (reference(h) + upper) / 2;
  }
  const justBelow = new Float32Array(midpoint); // [pairs]
  const justAbove = new Float32Array(midpoint); // [pairs]
  for (let h = 0; h < pairCount; h += 1) {
    bitsOf(justAbove)[h] += 1; // positive floats: the next bit pattern is the next larger value
    if (h > 0) bitsOf(justBelow)[h] -= 1;
  }
  const encodeAll = (values: Float32Array): Uint16Array => {
    const bytes = new Uint8Array(values.length * 2); // [pairs, 2 bytes]
    encode(values, bytes, 0);
    return Uint16Array.from({ length: values.length }, (_, i) => bytes[2 * i] | (bytes[2 * i + 1] << 8));
  };
  const [lowerBits, midpointBits, belowBits, aboveBits] = [lower, midpoint, justBelow, justAbove].map(encodeAll);
  const wrong: string[] = [];
  for (let h = 0; h < pairCount; h += 1) {
    const even = h % 2 === 0 ? h : h + 1;
    if (lowerBits[h] !== h) wrong.push(`exact ${h}`);
    if (midpointBits[h] !== even) wrong.push(`midpoint ${h}`);
    if (h > 0 && belowBits[h] !== h) wrong.push(`below ${h}`);
    if (aboveBits[h] !== h + 1) wrong.push(`above ${h}`);
  }
  expect(wrong).toEqual([]);
}

describe('F16 and BF16 encoding', () => {
  it('rounds float32 to F16 to nearest, ties to even, over every pair of neighbours', () => {
    expectRoundsToNearestEven(encodeFloat16Into, referenceFloat16, 0x7bff);
  });

  it('rounds float32 to BF16 to nearest, ties to even, over every pair of neighbours', () => {
    expectRoundsToNearestEven(encodeBfloat16Into, referenceBfloat16, 0x7f7f);
  });

  it('keeps signs, infinities and NaN, and flushes values below half the smallest subnormal to signed zero', () => {
    const values = Float32Array.of(-0, -1.5, Infinity, -Infinity, NaN, -(2 ** -140)); // [6]
    for (const [encode, reference] of [[encodeFloat16Into, referenceFloat16], [encodeBfloat16Into, referenceBfloat16]] as const) {
      const bytes = new Uint8Array(values.length * 2); // [6, 2 bytes]
      encode(values, bytes, 0);
      const decoded = Array.from({ length: values.length }, (_, i) => reference(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
      // 2^-140 is below half of the smallest subnormal of both formats (2^-24 for F16, 2^-133 for BF16).
      expect(decoded).toEqual([-0, -1.5, Infinity, -Infinity, NaN, -0]);
      expect(Object.is(decoded[0], -0) && Object.is(decoded[5], -0)).toBe(true);
    }
  });

  it('keeps a NaN a NaN when its payload sits only in the bits that rounding drops', () => {
    const values = new Float32Array(new Uint32Array([0x7f800001, 0xff800001]).buffer); // [2] NaN, -NaN
    for (const [encode, reference] of [[encodeFloat16Into, referenceFloat16], [encodeBfloat16Into, referenceBfloat16]] as const) {
      const bytes = new Uint8Array(4); // [2, 2 bytes]
      encode(values, bytes, 0);
      expect(reference(bytes[0] | (bytes[1] << 8))).toBeNaN();
      expect(reference(bytes[2] | (bytes[3] << 8))).toBeNaN();
      expect(bytes[3] & 0x80).toBe(0x80); // the sign survives
    }
  });

  it('overflows F16 to infinity but keeps large values finite in BF16, within half a BF16 ulp', () => {
    const values = Float32Array.of(1e30, -1e30); // [2]
    const f16 = new Uint8Array(4); // [2, 2 bytes]
    const bf16 = new Uint8Array(4); // [2, 2 bytes]
    encodeFloat16Into(values, f16, 0);
    encodeBfloat16Into(values, bf16, 0);
    expect([referenceFloat16(f16[0] | (f16[1] << 8)), referenceFloat16(f16[2] | (f16[3] << 8))]).toEqual([Infinity, -Infinity]);
    const roundedBf16 = referenceBfloat16(bf16[0] | (bf16[1] << 8));
    // BF16 keeps 8 significant bits, so rounding moves a value by at most 2^-9 of its magnitude.
    expect(Math.abs(roundedBf16 - 1e30) / 1e30).toBeLessThanOrEqual(2 ** -9);
  });
});

describe('safetensors round trip', () => {
  const tensors = [
    { name: 'conv.weight', shape: [4, 3, 3, 3], data: sampleFloats(108, 1) },
    { name: 'bn.bias', shape: [5], data: sampleFloats(5, 2) },
    { name: 'empty', shape: [0], data: new Float32Array(0) },
    { name: 'empty.middle', shape: [3, 0, 2], data: new Float32Array(0) },
    { name: 'scalar', shape: [], data: Float32Array.of(Math.PI) },
    { name: '10', shape: [1], data: Float32Array.of(10) },
    { name: '2', shape: [1], data: Float32Array.of(2) },
  ];
  const metadata = { format: 'pt', note: 'ünïcode "quoted" {braces}, commas' };

  it('writes F32 that reads back bit for bit, with metadata, names in the given order and aligned data', () => {
    const bytes = writeSafetensors(tensors, metadata);
    const file = parseSafetensors(bytes);
    expect(file.bytes).toBe(bytes); // no copy of the data
    expect(file.dataStart % 8).toBe(0);
    expect(file.metadata).toEqual(metadata);
    expect([...file.tensors.keys()]).toEqual(tensors.map((tensor) => tensor.name));
    const headerText = new TextDecoder().decode(bytes.subarray(8, file.dataStart));
    const positions = tensors.map((tensor) => headerText.indexOf(JSON.stringify(tensor.name)));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(headerText.trimEnd().endsWith('}')).toBe(true);
    for (const tensor of tensors) {
      const entry = file.tensors.get(tensor.name)!;
      expect(entry.dtype).toBe('F32');
      expect(entry.shape).toEqual(tensor.shape);
      expect(entry.begin % 4).toBe(0);
      expect(bitsOf(readTensorAsFloat32(file, tensor.name))).toEqual(bitsOf(tensor.data));
    }
  });

  it('writes the same bytes twice (deterministic)', () => {
    expect(writeSafetensors(tensors, metadata)).toEqual(writeSafetensors(tensors, metadata));
  });

  it('writes F16 and BF16 (globally or per tensor) that read back as the rounded values', () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const file = parseSafetensors(writeSafetensors(tensors, undefined, { dtype }));
      expect(file.metadata).toEqual({});
      for (const tensor of tensors) {
        expect(file.tensors.get(tensor.name)!.dtype).toBe(dtype);
        const rounded = new Uint8Array(tensor.data.length * 2); // [elements, 2 bytes]
        (dtype === 'F16' ? encodeFloat16Into : encodeBfloat16Into)(tensor.data, rounded, 0);
        const expected = new Float32Array(tensor.data.length); // [elements]
        (dtype === 'F16' ? decodeFloat16Into : decodeBfloat16Into)(rounded, 0, expected);
        expect(readTensorAsFloat32(file, tensor.name)).toEqual(expected);
      }
    }
    const mixed = parseSafetensors(
      writeSafetensors([{ ...tensors[1], dtype: 'F16' }, tensors[0], { ...tensors[4], dtype: 'F32' }], undefined, { dtype: 'BF16' }),
    );
    expect([...mixed.tensors.values()].map((entry) => entry.dtype)).toEqual(['F16', 'BF16', 'F32']);
    // Odd F16/BF16 element counts (5, then 108) leave the F32 scalar unaligned; it still reads back.
    expect(mixed.tensors.get('scalar')!.begin % 4).not.toBe(0);
    expect(readTensorAsFloat32(mixed, 'scalar')).toEqual(tensors[4].data);
  });

  it('writes an empty file that parses', () => {
    const file = parseSafetensors(writeSafetensors([]));
    expect(file.tensors.size).toBe(0);
    expect(file.dataStart).toBe(file.bytes.length);
  });

  it('fills tensors in place with writeSafetensorsFrom, giving the same bytes as writeSafetensors', () => {
    const byName = new Map(tensors.map((tensor) => [tensor.name, tensor.data]));
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const targets: Float32Array[] = [];
      const filled = writeSafetensorsFrom(tensors, (name, target) => {
        targets.push(target);
        target.set(byName.get(name)!);
      }, metadata, { dtype });
      expect(filled).toEqual(writeSafetensors(tensors, metadata, { dtype }));
      // F32 fills write straight into the output: no second copy of a 1.9 GB file.
      expect(targets.every((target) => target.buffer === filled.buffer)).toBe(dtype === 'F32');
    }
    const mixedSpecs = [{ ...tensors[1], dtype: 'F16' as const }, tensors[0]];
    const mixed = writeSafetensorsFrom(mixedSpecs, (name, target) => target.set(byName.get(name)!));
    expect(mixed).toEqual(writeSafetensors(mixedSpecs));
  });

  it('reads F32 at an unaligned offset and from a view into a larger buffer', () => {
    const values = sampleFloats(7, 3); // [7]
    const data = new Uint8Array(28); // [7 floats, 4 bytes]
    values.forEach((value, i) => new DataView(data.buffer).setFloat32(4 * i, value, true));
    const raw = craftFile(padToOddLength(`{"w":${entry('F32', [7], [0, 28])}}`), data);
    const container = new Uint8Array(raw.length + 6); // [3 bytes before, file, 3 after]
    container.set(raw, 3);
    const file = parseSafetensors(container.subarray(3, 3 + raw.length));
    expect((file.bytes.byteOffset + file.tensors.get('w')!.begin) % 4).not.toBe(0);
    expect(readTensorAsFloat32(file, 'w')).toEqual(values);
  });

  it('parses and reads a file held in shared memory (as a threaded WebAssembly memory would hold it)', () => {
    const written = writeSafetensors([{ name: 'w', shape: [3], data: Float32Array.of(1, -2, 3) }], { k: 'v' });
    const shared = new Uint8Array(new SharedArrayBuffer(written.length)); // [file bytes]
    shared.set(written);
    const file = parseSafetensors(shared);
    expect(file.metadata).toEqual({ k: 'v' });
    expect(readTensorAsFloat32(file, 'w')).toEqual(Float32Array.of(1, -2, 3));
  });

  it('reads F64 rounded to the nearest float32', () => {
    const values = [1 / 3, -2.5e-40, 1e-50, 1e300, -0, Number.MAX_VALUE, NaN];
    const data = new Uint8Array(values.length * 8); // [7 doubles, 8 bytes]
    values.forEach((value, i) => new DataView(data.buffer).setFloat64(8 * i, value, true));
    const file = parseSafetensors(craftFile(`{"d":${entry('F64', [values.length], [0, data.length])}}`, data));
    const read = readTensorAsFloat32(file, 'd');
    values.forEach((value, i) => expect(Object.is(read[i], Math.fround(value))).toBe(true));
  });

  it('decodes into a caller-provided view without touching its neighbours', () => {
    const file = parseSafetensors(writeSafetensors(tensors, undefined, { dtype: 'F16' }));
    const memory = new Float32Array(12).fill(-7); // [2 guard, 5 tensor, 5 guard]
    readTensorInto(file, 'bn.bias', memory.subarray(2, 7));
    expect(memory.subarray(2, 7)).toEqual(readTensorAsFloat32(file, 'bn.bias'));
    expect([...memory.subarray(0, 2), ...memory.subarray(7)].every((value) => value === -7)).toBe(true);
  });

  it('accepts a header whose strings contain quotes, escapes, braces and commas, and spaces after the JSON', () => {
    const name = 'a"b\\c{d},[e]:';
    const header = `{"__metadata__":{"x":"}\\",{\\"y\\":1"},${JSON.stringify(name)}:${entry('F32', [1], [0, 4])}}   `;
    const file = parseSafetensors(craftFile(header, 4));
    expect([...file.tensors.keys()]).toEqual([name]);
    expect(file.metadata).toEqual({ x: '}",{"y":1' });
  });
});

describe('safetensors refusals', () => {
  const f32 = (shape: unknown, offsets: unknown): string => entry('F32', shape, offsets);
  const cases: [label: string, bytes: Uint8Array, message: RegExp][] = [
    ['a file shorter than 8 bytes', new Uint8Array(5), /5 bytes, expected at least 8/],
    ['a header length of 0', craftFile('', 0), /header length is 0/],
    ['a header length above the cap', craftFile('{}', 0, MAX_HEADER_BYTES + 1), /exceeds the 100000000-byte limit/],
    ['a header length beyond 2^32', craftFile('{}', 0, 2 ** 32 + 2), /exceeds the 100000000-byte limit/],
    ['a header length past the end of the file', craftFile('{}', 10, 40), /header length 40 runs past the end of the 20-byte file/],
    ['a header that is not UTF-8', craftFile(Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x7d)), /not valid UTF-8/],
    ['a header starting with a byte-order mark', craftFile(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d)), /not valid JSON/],
    ['a header that is not JSON', craftFile('{"w": '), /not valid JSON/],
    ['a header that is an array', craftFile('[]'), /header is an array; expected a JSON object/],
    ['a header that is null', craftFile('null'), /header is null; expected a JSON object/],
    ['a header that is a number', craftFile('42'), /header is a number; expected a JSON object/],
    ['an entry that is not an object', craftFile('{"w":[0,4]}', 4), /tensor "w": expected an object \{dtype, shape, data_offsets\}/],
    ['an entry without dtype', craftFile('{"w":{"shape":[1],"data_offsets":[0,4]}}', 4), /tensor "w": "dtype" must be a string, got nothing/],
    ['a numeric dtype', craftFile(`{"w":${entry(32 as unknown as string, [1], [0, 4])}}`, 4), /tensor "w": "dtype" must be a string, got 32/],
    ['an unknown dtype', craftFile(`{"w":${entry('F31', [1], [0, 4])}}`, 4), /tensor "w": unknown dtype "F31"; expected one of F64, F32/],
    ['a lower-case dtype', craftFile(`{"w":${entry('f32', [1], [0, 4])}}`, 4), /tensor "w": unknown dtype "f32"/],
    ['a missing shape', craftFile('{"w":{"dtype":"F32","data_offsets":[0,4]}}', 4), /tensor "w": "shape" must be an array of non-negative integers/],
    ['a shape that is not an array', craftFile(`{"w":${f32(4, [0, 4])}}`, 4), /tensor "w": "shape" must be an array/],
    ['a negative shape entry', craftFile(`{"w":${f32([-1], [0, 4])}}`, 4), /tensor "w": "shape" must be an array of non-negative integers, got \[-1\]/],
    ['a fractional shape entry', craftFile(`{"w":${f32([1.5], [0, 4])}}`, 4), /tensor "w": "shape" must be an array of non-negative integers, got \[1.5\]/],
    ['a string shape entry', craftFile(`{"w":${f32(['1'], [0, 4])}}`, 4), /tensor "w": "shape" must be an array/],
    ['a shape entry beyond 2^53', craftFile(`{"w":${f32([2 ** 53], [0, 4])}}`, 4), /tensor "w": "shape" must be an array of non-negative integers/],
    ['a shape too large to address', craftFile(`{"w":${f32([2 ** 30, 2 ** 30], [0, 4])}}`, 4), /tensor "w": shape \[1073741824, 1073741824\] is too large/],
    ['missing data_offsets', craftFile('{"w":{"dtype":"F32","shape":[1]}}', 4), /tensor "w": "data_offsets" must be \[begin, end\]/],
    ['data_offsets of length 3', craftFile(`{"w":${f32([1], [0, 4, 8])}}`, 4), /tensor "w": "data_offsets" must be \[begin, end\]/],
    ['negative data_offsets', craftFile(`{"w":${f32([1], [-4, 0])}}`, 4), /tensor "w": "data_offsets" must be \[begin, end\] with non-negative integers/],
    ['fractional data_offsets', craftFile(`{"w":${f32([1], [0, 4.5])}}`, 4), /tensor "w": "data_offsets" must be/],
    ['data_offsets ending before they begin', craftFile(`{"w":${f32([0], [4, 0])}}`, 4), /tensor "w": data_offsets \[4, 0\] end before they begin/],
    ['a byte size that disagrees with shape and dtype', craftFile(`{"w":${f32([2, 3], [0, 20])}}`, 20), /tensor "w": dtype F32 with shape \[2, 3\] needs 24 bytes, but data_offsets \[0, 20\] span 20/],
    ['a first tensor not at offset 0', craftFile(`{"w":${f32([1], [4, 8])}}`, 8), /tensor "w" starts at data offset 4, leaving a gap; expected offset 0 \(at the start of the data section\)/],
    ['a gap between tensors', craftFile(`{"a":${f32([1], [0, 4])},"b":${f32([1], [8, 12])}}`, 12), /tensor "b" starts at data offset 8, leaving a gap; expected offset 4 \(right after tensor "a"\)/],
    ['overlapping tensors', craftFile(`{"a":${f32([2], [0, 8])},"b":${f32([2], [4, 12])}}`, 12), /tensor "b" starts at data offset 4, overlapping it; expected offset 8/],
    ['the same bytes claimed twice', craftFile(`{"a":${f32([1], [0, 4])},"b":${f32([1], [0, 4])}}`, 4), /tensor "b" starts at data offset 0, overlapping it; expected offset 4/],
    ['trailing bytes after the last tensor', craftFile(`{"a":${f32([1], [0, 4])}}`, 6), /data section is 6 bytes but tensor "a" ends at offset 4/],
    ['a tensor past the end of the file', craftFile(`{"a":${f32([4], [0, 16])}}`, 12), /data section is 12 bytes but tensor "a" ends at offset 16/],
    ['data bytes with no tensors', craftFile('{}', 4), /data section is 4 bytes but there are no tensors/],
    ['a tensor listed twice', craftFile(`{"a":${f32([1], [0, 4])},"a":${f32([1], [0, 4])}}`, 4), /lists tensor "a" more than once/],
    ['a tensor listed twice under an escaped name', craftFile(`{"a":${f32([1], [0, 4])},"\\u0061":${f32([1], [0, 4])}}`, 4), /lists tensor "a" more than once/],
    ['a field repeated inside an entry', craftFile('{"w":{"dtype":"F64","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4), /entry "w" has the field "dtype" more than once/],
    ['a metadata key repeated', craftFile('{"__metadata__":{"k":"1","k":"2"}}'), /entry "__metadata__" has the field "k" more than once/],
    ['metadata that is a string', craftFile('{"__metadata__":"pt"}'), /"__metadata__" must be an object of strings, got "pt"/],
    ['metadata that is null', craftFile('{"__metadata__":null}'), /"__metadata__" must be an object of strings, got null/],
    ['metadata that is an array', craftFile('{"__metadata__":["pt"]}'), /"__metadata__" must be an object of strings/],
    ['a metadata value that is not a string', craftFile('{"__metadata__":{"epochs":3}}'), /"__metadata__" value for "epochs" must be a string, got 3/],
  ];

  it.each(cases)('refuses %s', (_label, bytes, message) => {
    const thrown = thrownBy(() => parseSafetensors(bytes));
    expect(thrown).toBeInstanceOf(WeightsFormatError);
    expect((thrown as Error).message).toMatch(message);
  });

  it('keeps messages about hostile headers short and on one line', () => {
    const name = `evil\n${'x'.repeat(100_000)}`;
    const bytes = craftFile(`{${JSON.stringify(name)}:${entry('Q'.repeat(100_000), [1], [0, 4])}}`, 4);
    const error = thrownBy(() => parseSafetensors(bytes));
    expect(error).toBeInstanceOf(WeightsFormatError);
    const message = (error as Error).message;
    expect(message).toMatch(/^safetensors tensor "evil\\nxxx.*…: unknown dtype "QQQ.*…; expected one of/);
    // Two quoted excerpts of at most 120 characters each plus the fixed wording.
    expect(message.length).toBeLessThan(400);
    expect(message).not.toContain('\n');
  });

  it('refuses to read a non-float tensor, a missing tensor and a destination of the wrong size', () => {
    const file = parseSafetensors(craftFile(`{"steps":${entry('I64', [], [0, 8])},"w":${entry('F32', [2], [8, 16])}}`, 16));
    expect(() => readTensorAsFloat32(file, 'steps')).toThrow(WeightsFormatError);
    expect(() => readTensorAsFloat32(file, 'steps')).toThrow(/tensor "steps" has dtype I64, which is not a supported float dtype; expected one of F32, F16, BF16, F64/);
    expect(() => readTensorInto(file, 'steps', new Float32Array(1))).toThrow(/dtype I64/);
    expect(() => readTensorAsFloat32(file, 'absent')).toThrow(WeightsMismatchError);
    expect(() => readTensorAsFloat32(file, 'absent')).toThrow(/tensor "absent" is not in the weights file/);
    expect(() => readTensorInto(file, 'w', new Float32Array(3))).toThrow(WeightsMismatchError);
    expect(() => readTensorInto(file, 'w', new Float32Array(3))).toThrow(/shape \[2\] \(2 elements\), but the destination holds 3/);
  });
});

describe('safetensors writer refusals', () => {
  const ones = (count: number): Float32Array => new Float32Array(count).fill(1);
  const cases: [label: string, write: () => unknown, message: RegExp][] = [
    ['data of the wrong length', () => writeSafetensors([{ name: 'w', shape: [2, 2], data: ones(3) }]), /tensor "w": shape \[2, 2\] has 4 elements but the data has 3/],
    ['a repeated name', () => writeSafetensors([{ name: 'w', shape: [1], data: ones(1) }, { name: 'w', shape: [1], data: ones(1) }]), /tensor "w": the name appears more than once/],
    ['the reserved metadata name', () => writeSafetensors([{ name: '__metadata__', shape: [1], data: ones(1) }]), /tensor "__metadata__": the name is reserved/],
    ['a negative shape', () => writeSafetensorsFrom([{ name: 'w', shape: [-1] }], () => {}), /tensor "w": shape \[-1\] must hold non-negative integers/],
    ['an unknown dtype', () => writeSafetensors([{ name: 'w', shape: [1], data: ones(1), dtype: 'F8' as WritableDtype }]), /tensor "w": dtype "F8" is not one of F32, F16, BF16/],
    ['a metadata value that is not a string', () => writeSafetensors([], { epochs: 3 as unknown as string }), /metadata "epochs": the value must be a string/],
  ];

  it.each(cases)('refuses %s', (_label, write, message) => {
    expect(write).toThrow(WeightsFormatError);
    expect(write).toThrow(message);
  });
});
