/**
 * Half-precision conversion between little-endian bytes and float32, in bulk.
 *
 * F16 is IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits). BF16 ("brain float") is the
 * top half of a float32 (1 sign, 8 exponent, 7 mantissa bits). Decoding is exact in both cases:
 * every half value is a float32 value. Encoding rounds to nearest, ties to even, as PyTorch does.
 *
 * Values move as bit patterns through integer views of the float32 data, never through
 * JS numbers, so NaN payloads survive unchanged (engines may canonicalise NaN stored through a
 * `Float32Array`). The 16-bit inputs and outputs are assembled byte by byte, so any byte offset
 * works, aligned or not.
 */

const F16_PATTERN_COUNT = 65536;

let float16ToFloat32BitsTable: Int32Array | undefined; // [65536] float32 bits of each F16 pattern

/** The float32 bit pattern of one F16 bit pattern, computed from the definition. */
function float16BitsToFloat32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) {
    // Inf (mantissa 0) or NaN: the 10 payload bits become the top of the 23-bit mantissa.
    return sign | 0x7f800000 | (mantissa << 13);
  }
  if (exponent !== 0) {
    // Normal: rebias the exponent from 15 to 127.
    return sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  if (mantissa === 0) return sign;
  // Subnormal mantissa * 2^-24 is normal in float32: shift the leading 1 into the hidden bit.
  let shift = 0;
  let normalized = mantissa;
  while ((normalized & 0x400) === 0) {
    normalized <<= 1;
    shift += 1;
  }
  return sign | ((113 - shift) << 23) | ((normalized & 0x3ff) << 13);
}

/** A 256 KB table, built on first use, turns F16 decoding into one lookup per element. */
function float16Table(): Int32Array {
  if (float16ToFloat32BitsTable === undefined) {
    const table = new Int32Array(F16_PATTERN_COUNT); // [65536]
    for (let half = 0; half < F16_PATTERN_COUNT; half += 1) table[half] = float16BitsToFloat32Bits(half);
    float16ToFloat32BitsTable = table;
  }
  return float16ToFloat32BitsTable;
}

/**
 * Signed rather than unsigned: bit patterns with the sign bit set stay small integers in the
 * engine instead of boxed doubles, which makes the bulk loops about twice as fast.
 */
function bitsView(values: Float32Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length);
}

/** Decodes `target.length` little-endian F16 values starting at `source[byteOffset]`. */
export function decodeFloat16Into(source: Uint8Array, byteOffset: number, target: Float32Array): void {
  const table = float16Table();
  const targetBits = bitsView(target); // [count]
  for (let i = 0, p = byteOffset; i < targetBits.length; i += 1, p += 2) {
    targetBits[i] = table[source[p] | (source[p + 1] << 8)];
  }
}

/** Decodes `target.length` little-endian BF16 values starting at `source[byteOffset]`. */
export function decodeBfloat16Into(source: Uint8Array, byteOffset: number, target: Float32Array): void {
  const targetBits = bitsView(target); // [count]
  for (let i = 0, p = byteOffset; i < targetBits.length; i += 1, p += 2) {
    targetBits[i] = (source[p] | (source[p + 1] << 8)) << 16;
  }
}

/** Float32 bits to F16 bits, rounding to nearest with ties to even; overflow gives infinity. */
function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    // Keep the top payload bits and force the quiet bit so a NaN never collapses to infinity.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  if (exponent >= 143) return sign | 0x7c00; // at least 2^16: beyond the largest F16 even before rounding
  if (exponent >= 113) {
    // Normal F16 range: drop 13 mantissa bits. A carry out of the mantissa correctly bumps the
    // exponent, and a carry out of the largest exponent lands exactly on the infinity pattern.
    const truncated = ((exponent - 112) << 10) | (mantissa >>> 13);
    const dropped = mantissa & 0x1fff;
    const roundUp = dropped > 0x1000 || (dropped === 0x1000 && (truncated & 1) === 1);
    return sign | (truncated + (roundUp ? 1 : 0));
  }
  // Subnormal F16 (or zero): the value in units of 2^-24 is the full 24-bit significand
  // shifted right by (126 - exponent); beyond 24 bits of shift it is below half a unit.
  const shift = 126 - exponent;
  if (shift > 24) return sign;
  const significand = mantissa | 0x800000;
  const truncated = significand >>> shift;
  const dropped = significand & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  const roundUp = dropped > half || (dropped === half && (truncated & 1) === 1);
  return sign | (truncated + (roundUp ? 1 : 0));
}

/** Float32 bits to BF16 bits, rounding to nearest with ties to even; overflow gives infinity. */
function float32BitsToBfloat16Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) {
    // NaN: truncation could clear every payload bit and turn it into infinity; set the quiet bit.
    return (bits >>> 16) | 0x40;
  }
  const lowestKeptBit = (bits >>> 16) & 1;
  return (bits + 0x7fff + lowestKeptBit) >>> 16;
}

function encodeHalvesInto(
  source: Float32Array,
  target: Uint8Array,
  byteOffset: number,
  encode: (bits: number) => number,
): void {
  const sourceBits = bitsView(source); // [count]
  for (let i = 0, p = byteOffset; i < sourceBits.length; i += 1, p += 2) {
    const half = encode(sourceBits[i]);
    target[p] = half & 0xff;
    target[p + 1] = half >>> 8;
  }
}

/** Encodes `source` as little-endian F16 at `target[byteOffset]` (2 bytes per value). */
export function encodeFloat16Into(source: Float32Array, target: Uint8Array, byteOffset: number): void {
  encodeHalvesInto(source, target, byteOffset, float32BitsToFloat16Bits);
}

/** Encodes `source` as little-endian BF16 at `target[byteOffset]` (2 bytes per value). */
export function encodeBfloat16Into(source: Float32Array, target: Uint8Array, byteOffset: number): void {
  encodeHalvesInto(source, target, byteOffset, float32BitsToBfloat16Bits);
}
