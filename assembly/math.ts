// Transcendental helpers shared by every kernel epilogue: exp, sigmoid and swish, each as an
// f32x4 version and a scalar version. The scalar version performs exactly the same IEEE single
// operations in the same order as one lane of the vector version, so an element computed in a
// scalar tail has the same bits as it would in a full vector (results must not depend on where
// a tensor's channel count happens to split into vectors). Only plain SIMD: no FMA, no relaxed ops.
//
// Everything is built on one routine, e^-x for x in [-89, 88] (sigmoid and swish need e^-x, and
// computing it from x directly saves the negation):
// - e^-x = 2^n * e^r with n = nearest(-x / ln2) and r = -x - n*ln2 in [-ln2/2, ln2/2]. The code
//   carries s = -r = x + n*ln2 and evaluates e^r as a polynomial in s whose odd coefficients are
//   negated: that is bit for bit the polynomial in r, because negation is exact and IEEE rounding
//   is symmetric about zero.
// - ln2 is split hi + lo: hi keeps 16 significant bits, so n*hi is exact for |n| <= 256 and
//   x + n*hi loses nothing; lo restores the rest.
// - n is rounded by adding and subtracting 1.5 * 2^23 + 127 (round-to-nearest-even does the work),
//   and the sum's low mantissa bits are then n + 127, n's biased float exponent: shifted left by
//   23 they are 2^n in one instruction, with no float-to-int conversion (a long instruction
//   sequence on x64) and no separate bias add.
// - e^r is c0 + r q(r), q of degree 4 (degree 5 in all): a minimax fit of the relative error on
//   [-ln2/2, ln2/2] (Remez exchange in 40-digit arithmetic with c0 fixed at 1 + 2^-23, the float32
//   nearest the free optimum; fixing c0 at exactly 1 would cost a factor 3.6 in error), then each
//   coefficient nudged by a few float32 steps to minimise the error of the whole float32 pipeline.
//   Approximation error 1.20e-7; with float32 rounding the whole exp is within 2.232e-7 relative
//   of the true value over every normal float32 input in [-87, 88] (measured exhaustively, all
//   2.2e9 of them); sigmoid is within 2.746e-7 and swish within 2.926e-7 likewise
//   (test/support/tolerance.ts; test/runtime/math.test.ts re-checks on a dense sweep). Degree 6
//   was within 1.44e-7, 2.25e-7 and 2.81e-7 but costs two more operations per vector in the
//   hottest epilogue; the network's budget is about 1e-6.
//   q is evaluated by Estrin's scheme (shorter dependency chains than Horner's, which measured a
//   few percent slower even with four independent vectors in flight), and c0 + r q keeps the only
//   rounding at magnitude 1 at the very end.
// - The clamp x in [-89, 88] keeps n in [-127, 128], so n + 127 fills exactly the exponent field:
//   n = -127 gives the bits of +0 and n = 128 those of +Inf, which is exactly what
//   sigmoid and swish want at those extremes (1 and 0). exp_f32x4, whose callers want e^v itself
//   everywhere, instead multiplies by 2^(n>>1) and 2^(n - (n>>1)), both normal, so overflow
//   rounds to +Inf by ordinary IEEE multiply and results below the smallest normal are flushed.
// - sigmoid(x) = 1 / (1 + e^-x) and swish(x) = x / (1 + e^-x): one division each, no sign tests.
//   For x < 0, e^-x > 1 and its relative error reaches the result scaled by e/(1+e) < 1; for
//   x >= 0 by at most a half. e^-x overflowing to +Inf gives exactly 0 (sigmoid) and -0 (swish).
// - Nothing here returns a denormal (denormals are slow on some CPUs and their rounding is a
//   source of surprise): exp and sigmoid flush results below the smallest normal float to +0, and
//   swish never produces one (its smallest nonzero magnitude is about 87 * 2^-128). NaN propagates
//   through every path.
import { ACTIVATION_RELU, ACTIVATION_RELU6, ACTIVATION_SWISH } from './constants';

// @ts-ignore: decorator
@inline const NEGATED_INPUT_MIN: f32 = -89.0; // e^89 rounds to +Inf; keeps n <= 128
// @ts-ignore: decorator
@inline const NEGATED_INPUT_MAX: f32 = 88.0; // e^-88 is below the smallest normal; keeps n >= -127
// @ts-ignore: decorator
@inline const MINUS_LOG2_E: f32 = -1.4426950216293335;
// @ts-ignore: decorator
@inline const ROUNDING_SHIFT: f32 = 12583039.0; // 1.5 * 2^23 + EXPONENT_BIAS
// @ts-ignore: decorator
@inline const ROUNDING_SHIFT_BITS: i32 = 0x4b40007f; // its bit pattern
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693145751953125; // 45426 / 2^16
// @ts-ignore: decorator
@inline const LN2_LO: f32 = 1.428606765330187e-6; // ln2 - LN2_HI, rounded to f32
// e^r = C0 + r (C1 + C2 r + C3 r^2 + C4 r^3 + C5 r^4); the S_ constants are the coefficients of
// the same polynomial in s = -r (odd ones negated).
// @ts-ignore: decorator
@inline const EXP_C0: f32 = 1.0000001192092896; // 1 + 2^-23
// @ts-ignore: decorator
@inline const EXP_S1: f32 = -1.0000003576278687;
// @ts-ignore: decorator
@inline const EXP_S2: f32 = 0.4999847710132599;
// @ts-ignore: decorator
@inline const EXP_S3: f32 = -0.16664564609527588;
// @ts-ignore: decorator
@inline const EXP_S4: f32 = 0.04195496067404747;
// @ts-ignore: decorator
@inline const EXP_S5: f32 = -0.008531246334314346;
// @ts-ignore: decorator
@inline const SMALLEST_NORMAL: f32 = 1.1754943508222875e-38; // 2^-126
// @ts-ignore: decorator
@inline const EXPONENT_BIAS: i32 = 127;
// @ts-ignore: decorator
@inline const MANTISSA_BITS: i32 = 23;

// The vector path broadcasts its constants from this table with v128.load32_splat, one load
// instruction each, instead of writing them as v128 constants: V8 rebuilds every v128 constant
// inside the loop that uses it (three instructions each). V8 also merges repeated loads of one
// address within a loop trip. Offsets are in bytes.
const VECTOR_CONSTANTS = memory.data<f32>([
  NEGATED_INPUT_MIN, NEGATED_INPUT_MAX, MINUS_LOG2_E, ROUNDING_SHIFT, LN2_HI, LN2_LO,
  EXP_C0, EXP_S1, EXP_S2, EXP_S3, EXP_S4, EXP_S5, 1.0, SMALLEST_NORMAL,
]);
// @ts-ignore: decorator
@inline const AT_NEGATED_INPUT_MIN: usize = 0;
// @ts-ignore: decorator
@inline const AT_NEGATED_INPUT_MAX: usize = 4;
// @ts-ignore: decorator
@inline const AT_MINUS_LOG2_E: usize = 8;
// @ts-ignore: decorator
@inline const AT_ROUNDING_SHIFT: usize = 12; // its bits are also ROUNDING_SHIFT_BITS
// @ts-ignore: decorator
@inline const AT_LN2_HI: usize = 16;
// @ts-ignore: decorator
@inline const AT_LN2_LO: usize = 20;
// @ts-ignore: decorator
@inline const AT_C0: usize = 24;
// @ts-ignore: decorator
@inline const AT_S1: usize = 28;
// @ts-ignore: decorator
@inline const AT_S2: usize = 32;
// @ts-ignore: decorator
@inline const AT_S3: usize = 36;
// @ts-ignore: decorator
@inline const AT_S4: usize = 40;
// @ts-ignore: decorator
@inline const AT_S5: usize = 44;
// @ts-ignore: decorator
@inline const AT_ONE: usize = 48;
// @ts-ignore: decorator
@inline const AT_SMALLEST_NORMAL: usize = 52;

/** The table's constant at byte offset `at`, in all four lanes. */
// @ts-ignore: decorator
@inline function constant(at: usize): v128 {
  return v128.load32_splat(VECTOR_CONSTANTS + at);
}

// The steps every function shares, as inline pieces so each function reads top to bottom.

/** x clamped to [-89, 88] (pmax/pmin are one instruction each on x64; with x first, NaN passes). */
// @ts-ignore: decorator
@inline function clampNegatedInput_f32x4(x: v128): v128 {
  return f32x4.pmin(f32x4.pmax(x, constant(AT_NEGATED_INPUT_MIN)), constant(AT_NEGATED_INPUT_MAX));
}

/** -x / ln2 + 1.5 * 2^23 + 127: minus the shift it is n = nearest(-x / ln2); its low bits are n + 127. */
// @ts-ignore: decorator
@inline function roundedExponent_f32x4(x: v128): v128 {
  return f32x4.add(f32x4.mul(x, constant(AT_MINUS_LOG2_E)), constant(AT_ROUNDING_SHIFT));
}

/** e^r for r = -x - n*ln2, given clamped x and roundedExponent_f32x4(x). */
// @ts-ignore: decorator
@inline function reducedExp_f32x4(x: v128, shifted: v128): v128 {
  const n = f32x4.sub(shifted, constant(AT_ROUNDING_SHIFT));
  let s = f32x4.add(x, f32x4.mul(n, constant(AT_LN2_HI)));
  s = f32x4.add(s, f32x4.mul(n, constant(AT_LN2_LO)));
  const s2 = f32x4.mul(s, s);
  const low = f32x4.add(constant(AT_S1), f32x4.mul(s, constant(AT_S2)));
  const high = f32x4.add(f32x4.add(constant(AT_S3), f32x4.mul(s, constant(AT_S4))), f32x4.mul(s2, constant(AT_S5)));
  const q = f32x4.add(low, f32x4.mul(s2, high));
  return f32x4.add(constant(AT_C0), f32x4.mul(s, q));
}

/** e^-x for clamped x: 2^n as one scale, n = -127 giving +0 and n = 128 giving +Inf. */
// @ts-ignore: decorator
@inline function expOfNegated_f32x4(x: v128): v128 {
  const shifted = roundedExponent_f32x4(x);
  return f32x4.mul(reducedExp_f32x4(x, shifted), i32x4.shl(shifted, MANTISSA_BITS));
}

// @ts-ignore: decorator
@inline function clampNegatedInput_f32(x: f32): f32 {
  const clampedBelow: f32 = x < NEGATED_INPUT_MIN ? NEGATED_INPUT_MIN : x; // f32x4.pmax(x, min)
  return NEGATED_INPUT_MAX < clampedBelow ? NEGATED_INPUT_MAX : clampedBelow; // f32x4.pmin(x, max)
}

// @ts-ignore: decorator
@inline function roundedExponent_f32(x: f32): f32 {
  return x * MINUS_LOG2_E + ROUNDING_SHIFT;
}

// @ts-ignore: decorator
@inline function reducedExp_f32(x: f32, shifted: f32): f32 {
  const n: f32 = shifted - ROUNDING_SHIFT;
  let s: f32 = x + n * LN2_HI;
  s = s + n * LN2_LO;
  const s2: f32 = s * s;
  const low: f32 = EXP_S1 + s * EXP_S2;
  const high: f32 = (EXP_S3 + s * EXP_S4) + s2 * EXP_S5;
  const q: f32 = low + s2 * high;
  return EXP_C0 + s * q;
}

// @ts-ignore: decorator
@inline function expOfNegated_f32(x: f32): f32 {
  const shifted = roundedExponent_f32(x);
  return reducedExp_f32(x, shifted) * reinterpret<f32>(reinterpret<i32>(shifted) << MANTISSA_BITS);
}

/** e^v for each lane, any input. See the file comment for the method and its error. */
// @ts-ignore: decorator
@inline export function exp_f32x4(v: v128): v128 {
  const x = clampNegatedInput_f32x4(f32x4.neg(v));
  const shifted = roundedExponent_f32x4(x);
  const p = reducedExp_f32x4(x, shifted);
  const exponent = i32x4.sub(shifted, constant(AT_ROUNDING_SHIFT)); // minus ROUNDING_SHIFT_BITS
  const lowHalf = i32x4.shr_s(exponent, 1);
  const highHalf = i32x4.sub(exponent, lowHalf);
  const bias = i32x4.splat(EXPONENT_BIAS);
  const lowScale = i32x4.shl(i32x4.add(lowHalf, bias), MANTISSA_BITS);
  const highScale = i32x4.shl(i32x4.add(highHalf, bias), MANTISSA_BITS);
  const result = f32x4.mul(f32x4.mul(p, lowScale), highScale);
  // Lanes below the smallest normal become +0; NaN compares false and is kept.
  return v128.andnot(result, f32x4.lt(result, constant(AT_SMALLEST_NORMAL)));
}

/** e^v: the same operations as one lane of exp_f32x4. */
// @ts-ignore: decorator
@inline export function expf32(v: f32): f32 {
  const x = clampNegatedInput_f32(-v);
  const shifted = roundedExponent_f32(x);
  const p = reducedExp_f32(x, shifted);
  const exponent = reinterpret<i32>(shifted) - ROUNDING_SHIFT_BITS;
  const lowHalf = exponent >> 1;
  const highHalf = exponent - lowHalf;
  const lowScale = reinterpret<f32>((lowHalf + EXPONENT_BIAS) << MANTISSA_BITS);
  const highScale = reinterpret<f32>((highHalf + EXPONENT_BIAS) << MANTISSA_BITS);
  const result = (p * lowScale) * highScale;
  return result < SMALLEST_NORMAL ? 0 : result;
}

/** 1 / (1 + e^-x) for each lane; results below the smallest normal are flushed to +0. */
// @ts-ignore: decorator
@inline export function sigmoid_f32x4(x: v128): v128 {
  const one = constant(AT_ONE);
  const result = f32x4.div(one, f32x4.add(one, expOfNegated_f32x4(clampNegatedInput_f32x4(x))));
  return v128.andnot(result, f32x4.lt(result, constant(AT_SMALLEST_NORMAL)));
}

/** sigmoid: the same operations as one lane of sigmoid_f32x4. */
// @ts-ignore: decorator
@inline export function sigmoid_f32(x: f32): f32 {
  const result: f32 = 1.0 / (1.0 + expOfNegated_f32(clampNegatedInput_f32(x)));
  return result < SMALLEST_NORMAL ? 0 : result;
}

/**
 * swish(x) = x * sigmoid(x) = x / (1 + e^-x) for each lane (also called SiLU): one division and
 * no multiply, which is cheaper and rounds once less than x times the quotient.
 */
// @ts-ignore: decorator
@inline export function swish_f32x4(x: v128): v128 {
  return f32x4.div(x, f32x4.add(constant(AT_ONE), expOfNegated_f32x4(clampNegatedInput_f32x4(x))));
}

/** swish: the same operations as one lane of swish_f32x4. */
// @ts-ignore: decorator
@inline export function swish_f32(x: f32): f32 {
  return x / (1.0 + expOfNegated_f32(clampNegatedInput_f32(x)));
}

/**
 * Applies swish in place to `count` consecutive floats at `data` (the epilogue pass of the GEMM,
 * depthwise and conv kernels), four vectors per iteration: each swish is one long dependency
 * chain, and four independent chains side by side measured 1.2x faster than two (more spill).
 * The floats past the last whole vector go through the scalar twin, so a value's bits do not
 * depend on where the range starts or ends.
 */
export function swish_in_place(data: usize, count: i32): void {
  let at = data;
  const vectorsEnd = data + (<usize>(count & ~3) << 2);
  const quadsEnd = data + (<usize>(count & ~15) << 2);
  for (; at < quadsEnd; at += 64) {
    const first = swish_f32x4(v128.load(at));
    const second = swish_f32x4(v128.load(at, 16));
    const third = swish_f32x4(v128.load(at, 32));
    const fourth = swish_f32x4(v128.load(at, 48));
    v128.store(at, first);
    v128.store(at, second, 16);
    v128.store(at, third, 32);
    v128.store(at, fourth, 48);
  }
  for (; at < vectorsEnd; at += 16) v128.store(at, swish_f32x4(v128.load(at)));
  const end = data + (<usize>count << 2);
  for (; at < end; at += 4) store<f32>(at, swish_f32(load<f32>(at)));
}

/**
 * Clamps `count` floats at `data` in place to [low, high] (high may be +Infinity): the ReLU6 and
 * ReLU epilogues. f32x4.max/min and f32.max/min are the same IEEE operation per lane (a NaN stays
 * NaN, max(-0, 0) is +0), so the vector body and the scalar tail agree bit for bit.
 */
function clamp_in_place(data: usize, count: i32, low: f32, high: f32): void {
  const lowVector = f32x4.splat(low);
  const highVector = f32x4.splat(high);
  let at = data;
  const vectorsEnd = data + (<usize>(count & ~3) << 2);
  for (; at < vectorsEnd; at += 16) v128.store(at, f32x4.min(f32x4.max(v128.load(at), lowVector), highVector));
  const end = data + (<usize>count << 2);
  for (; at < end; at += 4) store<f32>(at, min(max(load<f32>(at), low), high));
}

/** Applies the epilogue activation `activation` (an ACTIVATION_* code) to `count` floats at `data` in place. */
export function activate_in_place(data: usize, count: i32, activation: i32): void {
  if (activation == ACTIVATION_SWISH) swish_in_place(data, count);
  else if (activation == ACTIVATION_RELU6) clamp_in_place(data, count, 0, 6);
  else if (activation == ACTIVATION_RELU) clamp_in_place(data, count, 0, Infinity);
}

/** data[i] += other[i] for `count` floats: the residual after an activation pass (same op per element as the tile's). */
export function addInPlace(data: usize, other: usize, count: i32): void {
  const vectorsEnd = data + (<usize>(count & ~3) << 2);
  const end = data + (<usize>count << 2);
  let at = data;
  let from = other;
  for (; at < vectorsEnd; at += 16, from += 16) v128.store(at, f32x4.add(v128.load(at), v128.load(from)));
  for (; at < end; at += 4, from += 4) store<f32>(at, load<f32>(at) + load<f32>(from));
}

// Test entry points: apply a function to `count` floats, vectors first and a scalar tail, so the
// tests can check the vector and scalar paths against each other and against Math.exp.

/** output[i] = exp(input[i]); input, output: [count]. */
export function vector_exp(input: usize, output: usize, count: i32): void {
  const vectorEnd = count & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const offset = <usize>i << 2;
    v128.store(output + offset, exp_f32x4(v128.load(input + offset)));
  }
  for (; i < count; i++) {
    const offset = <usize>i << 2;
    store<f32>(output + offset, expf32(load<f32>(input + offset)));
  }
}

/** output[i] = sigmoid(input[i]); input, output: [count]. */
export function vector_sigmoid(input: usize, output: usize, count: i32): void {
  const vectorEnd = count & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const offset = <usize>i << 2;
    v128.store(output + offset, sigmoid_f32x4(v128.load(input + offset)));
  }
  for (; i < count; i++) {
    const offset = <usize>i << 2;
    store<f32>(output + offset, sigmoid_f32(load<f32>(input + offset)));
  }
}

/** output[i] = swish(input[i]); input, output: [count]. */
export function vector_swish(input: usize, output: usize, count: i32): void {
  const vectorEnd = count & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const offset = <usize>i << 2;
    v128.store(output + offset, swish_f32x4(v128.load(input + offset)));
  }
  for (; i < count; i++) {
    const offset = <usize>i << 2;
    store<f32>(output + offset, swish_f32(load<f32>(input + offset)));
  }
}

/** output[i] = activation(input[i]) for an ACTIVATION_* code, through the kernels' epilogue pass. */
export function vector_activate(input: usize, output: usize, count: i32, activation: i32): void {
  memory.copy(output, input, <usize>count << 2);
  activate_in_place(output, count, activation);
}
