// The multiply-add every register-blocked kernel (GEMM, stem conv) is built on, in one place so
// the two builds differ in nothing else.
//
// Default build: f32x4.mul then f32x4.add, two IEEE roundings. Every engine on every CPU gives
// the same bits, which is what lets Node and browsers, and any thread count, agree exactly.
//
// Relaxed build (`--enable relaxed-simd`, build/efficientnet-relaxed*.wasm, opt-in): one
// f32x4.relaxed_madd. Where the CPU has fused multiply-add (x64 with FMA3, arm64) the engine
// emits it: one instruction and one rounding instead of two, so results differ from the default
// build in the last bits and may differ between machines (a CPU without FMA rounds twice). It
// also frees the register the product needed. Measured on B0's pointwise shapes: 65-78% of the
// SIMD ceiling for the default GEMM, 79-94% for the relaxed one (README, bench/gemm.bench.ts).
// On a Zen 5 host (2026-12-03) both ran at the same speed, 86-91% and 81-89% of the ceiling:
// there two FMA pipes do what two multiply and two add pipes do.

/** acc + a * b for each lane: see the file comment for what each build emits. */
// @ts-ignore: decorator
@inline export function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}
