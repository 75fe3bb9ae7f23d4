// Transcendental helpers shared by every kernel epilogue: exp, sigmoid and swish, each as an
// f32x4 version and a scalar version. The scalar version performs exactly the same IEEE single
// operations in the same order as one lane of the vector version, so an element computed in a
// scalar tail has the same bits as it would in a full vector (results must not depend on where
// a tensor's channel count happens to split into vectors). Only plain SIMD: no FMA, no relaxed ops.
//
// exp(x) = 2^n * exp(r) with n = nearest(x / ln2) and r = x - n*ln2 in [-ln2/2, ln2/2].
// - ln2 is split hi + lo: hi keeps 16 significant bits, so n*hi is exact for |n| <= 256 and
//   x - n*hi loses nothing; lo restores the rest.
// - n is rounded by adding and subtracting 1.5 * 2^23 (round-to-nearest-even does the work), and
//   the sum's low mantissa bits are then n as an integer: no float-to-int conversion, which costs
//   a long instruction sequence on x64.
// - exp(r) is 1 + c1 r + ... + c6 r^6, a degree-6 minimax fit of the relative error on
//   [-ln2/2, ln2/2] (Remez exchange in 40-digit arithmetic, constant term pinned to 1 so exp(0)
//   is exactly 1). With the coefficients rounded to f32 its relative approximation error on the
//   reduced range is at most 2.9e-8 (about a quarter of 2^-23); f32 evaluation rounding adds the
//   rest. Over every normal float32 in [-87, 88] the whole exp is within 1.44e-7 relative of the
//   true value (1.438e-7 measured exhaustively, 1.21 * 2^-23); test/runtime/math.test.ts re-checks
//   that bound on a dense sweep. sigmoid is within 2.25e-7 and swish within 2.81e-7 likewise.
// - Two ways to apply 2^n. exp_f32x4 (any input) clamps x to [-88, 89] (exp(-88) is below the
//   smallest normal, exp(89) above the largest float; this keeps the integer arithmetic in range
//   even for +-Inf) and multiplies by 2^(n>>1) and 2^(n - (n>>1)), both normal, so overflow
//   rounds to +Inf by ordinary IEEE multiply. The epilogue's expNonPositive_f32x4 only sees
//   z <= 0 and needs one scale; see there.
// - Results below the smallest normal float are flushed to +0, so nothing downstream ever sees a
//   denormal from here (denormals are slow on some CPUs and their rounding is a source of
//   surprise). NaN propagates through every path.

// @ts-ignore: decorator
@inline const EXP_INPUT_MIN: f32 = -88.0;
// @ts-ignore: decorator
@inline const EXP_INPUT_MAX: f32 = 89.0;
// @ts-ignore: decorator
@inline const LOG2_E: f32 = 1.4426950216293335;
// @ts-ignore: decorator
@inline const ROUNDING_SHIFT: f32 = 12582912.0; // 1.5 * 2^23
// @ts-ignore: decorator
@inline const ROUNDING_SHIFT_BITS: i32 = 0x4b400000; // its bit pattern
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693145751953125; // 45426 / 2^16
// @ts-ignore: decorator
@inline const LN2_LO: f32 = 1.428606765330187e-6; // ln2 - LN2_HI, rounded to f32
// @ts-ignore: decorator
@inline const EXP_C1: f32 = 1.0000001192092896;
// @ts-ignore: decorator
@inline const EXP_C2: f32 = 0.5;
// @ts-ignore: decorator
@inline const EXP_C3: f32 = 0.166663259267807;
// @ts-ignore: decorator
@inline const EXP_C4: f32 = 0.041666239500045776;
// @ts-ignore: decorator
@inline const EXP_C5: f32 = 0.008381109684705734;
// @ts-ignore: decorator
@inline const EXP_C6: f32 = 0.001394858118146658;
// @ts-ignore: decorator
@inline const DENORMAL_CUTOFF: f32 = -87.33654022216797; // the f32 just above ln(2^-126) = -87.336544750...
// @ts-ignore: decorator
@inline const SMALLEST_NORMAL: f32 = 1.1754943508222875e-38; // 2^-126
// @ts-ignore: decorator
@inline const EXPONENT_BIAS: i32 = 127;
// @ts-ignore: decorator
@inline const MANTISSA_BITS: i32 = 23;

// The hot vector path (reducedExp_f32x4, expNonPositive_f32x4, sigmoid) broadcasts its constants
// from this table with v128.load32_splat, one load instruction each, instead of writing them as
// v128 constants: V8 rebuilds every v128 constant inside the loop that uses it (three
// instructions each), which made swish about a third slower. Offsets are in bytes.
const VECTOR_CONSTANTS = memory.data<f32>([
  LOG2_E, ROUNDING_SHIFT, LN2_HI, LN2_LO,
  EXP_C6, EXP_C5, EXP_C4, EXP_C3, EXP_C2, EXP_C1, 1.0,
  DENORMAL_CUTOFF, -0.0,
]);
// @ts-ignore: decorator
@inline const AT_LOG2_E: usize = 0;
// @ts-ignore: decorator
@inline const AT_ROUNDING_SHIFT: usize = 4; // its bits are also ROUNDING_SHIFT_BITS
// @ts-ignore: decorator
@inline const AT_LN2_HI: usize = 8;
// @ts-ignore: decorator
@inline const AT_LN2_LO: usize = 12;
// @ts-ignore: decorator
@inline const AT_C6: usize = 16;
// @ts-ignore: decorator
@inline const AT_C5: usize = 20;
// @ts-ignore: decorator
@inline const AT_C4: usize = 24;
// @ts-ignore: decorator
@inline const AT_C3: usize = 28;
// @ts-ignore: decorator
@inline const AT_C2: usize = 32;
// @ts-ignore: decorator
@inline const AT_C1: usize = 36;
// @ts-ignore: decorator
@inline const AT_ONE: usize = 40; // its bits are also EXPONENT_BIAS << MANTISSA_BITS
// @ts-ignore: decorator
@inline const AT_DENORMAL_CUTOFF: usize = 44;
// @ts-ignore: decorator
@inline const AT_SIGN_BIT: usize = 48; // -0.0

/** The table's constant at byte offset `at`, in all four lanes. */
// @ts-ignore: decorator
@inline function constant(at: usize): v128 {
  return v128.load32_splat(VECTOR_CONSTANTS + at);
}

// The steps both exp variants share, as inline pieces so each variant reads top to bottom.

/** x / ln2 + 1.5 * 2^23: its value minus the shift is n = nearest(x / ln2); its low bits are n. */
// @ts-ignore: decorator
@inline function roundedExponent_f32x4(x: v128): v128 {
  return f32x4.add(f32x4.mul(x, constant(AT_LOG2_E)), constant(AT_ROUNDING_SHIFT));
}

/** exp(r) for r = x - n*ln2, given x and roundedExponent_f32x4(x). */
// @ts-ignore: decorator
@inline function reducedExp_f32x4(x: v128, shifted: v128): v128 {
  const n = f32x4.sub(shifted, constant(AT_ROUNDING_SHIFT));
  let r = f32x4.sub(x, f32x4.mul(n, constant(AT_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, constant(AT_LN2_LO)));
  // 1 + r q with q = (c1 + c2 r) + r^2 (c3 + c4 r) + r^4 (c5 + c6 r) by Estrin's scheme: its
  // dependency chain is half as long as Horner's (latency is what bounds this epilogue), and
  // keeping the final 1 + r q means only one rounding happens at magnitude 1.
  const r2 = f32x4.mul(r, r);
  const r4 = f32x4.mul(r2, r2);
  const low = f32x4.add(constant(AT_C1), f32x4.mul(constant(AT_C2), r));
  const middle = f32x4.add(constant(AT_C3), f32x4.mul(constant(AT_C4), r));
  const high = f32x4.add(constant(AT_C5), f32x4.mul(constant(AT_C6), r));
  const q = f32x4.add(f32x4.add(low, f32x4.mul(r2, middle)), f32x4.mul(r4, high));
  return f32x4.add(constant(AT_ONE), f32x4.mul(r, q));
}

// @ts-ignore: decorator
@inline function roundedExponent_f32(x: f32): f32 {
  return x * LOG2_E + ROUNDING_SHIFT;
}

// @ts-ignore: decorator
@inline function reducedExp_f32(x: f32, shifted: f32): f32 {
  const n: f32 = shifted - ROUNDING_SHIFT;
  let r: f32 = x - n * LN2_HI;
  r = r - n * LN2_LO;
  const r2: f32 = r * r;
  const r4: f32 = r2 * r2;
  const low: f32 = EXP_C1 + EXP_C2 * r;
  const middle: f32 = EXP_C3 + EXP_C4 * r;
  const high: f32 = EXP_C5 + EXP_C6 * r;
  const q: f32 = (low + r2 * middle) + r4 * high;
  return 1.0 + r * q;
}

/** e^x for each lane, any input. See the file comment for the method and its error. */
// @ts-ignore: decorator
@inline export function exp_f32x4(v: v128): v128 {
  // pmax/pmin are one instruction each on x64 (max/min are long sequences); with v first, NaN passes.
  const x = f32x4.pmin(f32x4.pmax(v, f32x4.splat(EXP_INPUT_MIN)), f32x4.splat(EXP_INPUT_MAX));
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
  return v128.andnot(result, f32x4.lt(result, f32x4.splat(SMALLEST_NORMAL)));
}

/** e^x: the same operations as one lane of exp_f32x4. */
// @ts-ignore: decorator
@inline export function expf32(v: f32): f32 {
  const clampedBelow: f32 = v < EXP_INPUT_MIN ? EXP_INPUT_MIN : v; // f32x4.pmax(v, min)
  const x: f32 = EXP_INPUT_MAX < clampedBelow ? EXP_INPUT_MAX : clampedBelow; // f32x4.pmin(x, max)
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

/**
 * e^z for lanes z <= 0 (or NaN): the epilogue's fast path, inside sigmoid and swish. For z <= 0
 * the result is at most 1, so 2^n is one normal scale whenever the result is normal: shifting
 * the rounded exponent's low bits into place gives n << 23 directly. Lanes with z below
 * ln(2^-126) (whose result would be denormal, and whose scale bits would be garbage) are set to
 * +0 by a mask on z. Where the result is normal it is the same product p * 2^n as exp_f32x4's
 * two exact halves, so the two agree bit for bit on z <= 0 (checked in math.test.ts).
 */
// @ts-ignore: decorator
@inline function expNonPositive_f32x4(z: v128): v128 {
  const shifted = roundedExponent_f32x4(z);
  const p = reducedExp_f32x4(z, shifted);
  const scale = i32x4.add(i32x4.shl(shifted, MANTISSA_BITS), constant(AT_ONE)); // plus EXPONENT_BIAS << MANTISSA_BITS
  return v128.andnot(f32x4.mul(p, scale), f32x4.lt(z, constant(AT_DENORMAL_CUTOFF)));
}

/** e^z for z <= 0: the same operations as one lane of expNonPositive_f32x4. */
// @ts-ignore: decorator
@inline function expNonPositive_f32(z: f32): f32 {
  const shifted = roundedExponent_f32(z);
  const p = reducedExp_f32(z, shifted);
  const scale = reinterpret<f32>((reinterpret<i32>(shifted) << MANTISSA_BITS) + (EXPONENT_BIAS << MANTISSA_BITS));
  return z < DENORMAL_CUTOFF ? 0 : p * scale;
}

/**
 * 1 / (1 + e^-x) for each lane, computed from e = exp(-|x|) <= 1 so nothing overflows:
 * sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0.
 */
// @ts-ignore: decorator
@inline export function sigmoid_f32x4(x: v128): v128 {
  // -|x|: setting the sign bit is one instruction (abs then neg is two).
  const e = expNonPositive_f32x4(v128.or(x, constant(AT_SIGN_BIT)));
  const one = constant(AT_ONE);
  const numerator = v128.bitselect(one, e, f32x4.ge(x, f32x4.splat(0.0)));
  return f32x4.div(numerator, f32x4.add(one, e));
}

/** sigmoid: the same operations as one lane of sigmoid_f32x4. */
// @ts-ignore: decorator
@inline export function sigmoid_f32(x: f32): f32 {
  const e = expNonPositive_f32(-abs<f32>(x)); // the same bits as setting the sign bit
  const numerator: f32 = x >= 0 ? 1.0 : e;
  return numerator / (1.0 + e);
}

/** swish(x) = x * sigmoid(x) for each lane (also called SiLU). */
// @ts-ignore: decorator
@inline export function swish_f32x4(x: v128): v128 {
  return f32x4.mul(x, sigmoid_f32x4(x));
}

/** swish: the same operations as one lane of swish_f32x4. */
// @ts-ignore: decorator
@inline export function swish_f32(x: f32): f32 {
  return x * sigmoid_f32(x);
}

/**
 * Applies swish in place to `vectors` consecutive f32x4 vectors at `data` (the epilogue of the
 * depthwise and similar kernels). Two vectors per iteration: each swish is one long dependency
 * chain, and giving the CPU two independent chains per iteration measured about a third faster.
 */
export function swish_vectors_in_place(data: usize, vectors: i32): void {
  let at = data;
  const pairsEnd = data + (<usize>(vectors & ~1) << 4);
  for (; at < pairsEnd; at += 32) {
    const first = swish_f32x4(v128.load(at));
    const second = swish_f32x4(v128.load(at, 16));
    v128.store(at, first);
    v128.store(at, second, 16);
  }
  if (vectors & 1) v128.store(at, swish_f32x4(v128.load(at)));
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
