/**
 * A tiny bump allocator over a fresh core instance, for kernel tests: copy arrays in, run a
 * kernel, read results out. Views are made on demand because `memory.grow` detaches old ones.
 */
import { instantiateCore, relaxedWasmUrl, type CoreExports } from '../../src/runtime/wasm.js';

/**
 * The build the kernel tests run against: the deterministic one, or the relaxed-SIMD one when
 * the `relaxed-simd` test project (vitest.config.ts) sets EFFICIENTNET_TEST_CORE=relaxed.
 */
export const TEST_CORE_BUILD: 'deterministic' | 'relaxed' = process.env.EFFICIENTNET_TEST_CORE === 'relaxed' ? 'relaxed' : 'deterministic';

export interface TestCore {
  exports: CoreExports;
  /** Reserves `floats` float32 slots (16-byte aligned, zero-filled) and returns the byte offset. */
  alloc(floats: number): number;
  /** Copies `data` into a fresh allocation and returns its byte offset. */
  put(data: ArrayLike<number>): number;
  /** Copies `floats` values at `offset` out of wasm memory. */
  get(offset: number, floats: number): Float32Array;
  /** Forgets every allocation (memory is kept). */
  reset(): void;
}

export async function createTestCore(): Promise<TestCore> {
  const exports = await instantiateCore(TEST_CORE_BUILD === 'relaxed' ? relaxedWasmUrl() : undefined);
  const memory = exports.memory;
  const base = Number((exports.heap_base as () => number)());
  let top = base;
  const alloc = (floats: number): number => {
    const offset = (top + 15) & ~15;
    const end = offset + Math.max(1, floats) * 4 + 64; // 64 bytes of slack so overreads are visible as zeros, not traps
    if (end > memory.buffer.byteLength) {
      memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    }
    new Float32Array(memory.buffer, offset, Math.max(1, floats) + 16).fill(0);
    top = end;
    return offset;
  };
  return {
    exports,
    alloc,
    put(data) {
      const offset = alloc(data.length);
      new Float32Array(memory.buffer, offset, data.length).set(data);
      return offset;
    },
    get(offset, floats) {
      return new Float32Array(memory.buffer, offset, floats).slice();
    },
    reset() {
      top = base;
    },
  };
}
