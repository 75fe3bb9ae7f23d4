// The core's public surface: every export here is a kernel or a constant the TypeScript side
// reads from the instance. Kernels take byte offsets into linear memory and sizes, nothing else.
export * from './constants';
export * from './memory';
