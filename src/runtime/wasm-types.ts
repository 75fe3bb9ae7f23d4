/**
 * The few WebAssembly JS API types the library's declarations mention, written structurally.
 * TypeScript declares the `WebAssembly` namespace only in its DOM and web worker libs, so a Node
 * project compiled with `lib: ["ES2022"]` and @types/node could not read declarations that name
 * `WebAssembly.Memory`; these shapes need no lib, and the real objects satisfy them.
 */

/** A compiled `WebAssembly.Module` (checked with `instanceof` where it matters). */
export type WasmModule = object;

/** A `WebAssembly.Memory`: its current buffer (shared for the threaded core) and growth in 64 KiB pages. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}

/** A `WebAssembly.Global` of an i32 or f32 constant the core exports. */
export interface WasmGlobal {
  readonly value: number;
}
