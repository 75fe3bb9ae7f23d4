// Constants shared with the TypeScript side. They are exported as globals so the host reads
// them from the instance instead of keeping a hand-copied enum (tested in test/runtime/wasm.test.ts).

/** Epilogue activation codes accepted by the conv, depthwise and GEMM kernels. */
export const ACTIVATION_NONE: i32 = 0;
/** x * sigmoid(x) (SiLU): EfficientNet and EfficientNetV2. */
export const ACTIVATION_SWISH: i32 = 1;
/** min(max(x, 0), 6): EfficientNet-Lite. Two vector ops per four floats, like XNNPACK's minmax epilogue. */
export const ACTIVATION_RELU6: i32 = 2;
/** max(x, 0). */
export const ACTIVATION_RELU: i32 = 3;

/** Bytes per float32 element; every tensor in the core is float32. */
export const FLOAT_BYTES: i32 = 4;

/** 1 in the relaxed-SIMD build (fused multiply-add where the CPU has it, see madd.ts), 0 in the
 *  default, bit-reproducible build. The host reads it to report which build it is running. */
export const RELAXED_SIMD: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
