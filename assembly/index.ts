// The core's public surface: every export here is a kernel or a constant the TypeScript side
// reads from the instance. Kernels take byte offsets into linear memory and sizes, nothing else.
export * from './constants';
export * from './memory';
// math.ts also exports inline v128 helpers for other kernels; only its test entry points go out.
export { vector_exp, vector_sigmoid, vector_swish, vector_activate } from './math';
export * from './batchnorm';
export * from './conv';
export * from './depthwise';
export * from './squeeze-excite';
export * from './pool';
export * from './softmax';
export * from './layout';
export * from './gemm';
export * from './resize';
export * from './reduce';
