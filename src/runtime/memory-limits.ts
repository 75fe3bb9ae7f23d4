/**
 * The wasm32 address space is 4 GiB (65536 pages of 64 KiB). Everything the core holds, the
 * packed weights and the activation arena, must fit below that; we check before growing.
 */
import { ResourceLimitError } from '../errors.js';
import type { WasmMemory } from './wasm-types.js';

export const WASM_PAGE_BYTES = 65536;
export const WASM32_MAX_PAGES = 65536;
export const WASM32_MAX_BYTES = WASM_PAGE_BYTES * WASM32_MAX_PAGES;

const formatBytes = (bytes: number): string =>
  bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export { formatBytes };

/** Throws a ResourceLimitError naming what needed the memory if `totalBytes` cannot fit in wasm32. */
export function assertFitsWasm32(totalBytes: number, what: string): void {
  if (totalBytes > WASM32_MAX_BYTES) {
    throw new ResourceLimitError(
      `${what} needs ${formatBytes(totalBytes)} of WebAssembly memory, more than the 4 GiB wasm32 limit; ` +
        'use a smaller batch or input size',
    );
  }
}

/** Grows `memory` so that at least `totalBytes` are addressable; the caller has checked the limit. */
export function ensureMemory(memory: WasmMemory, totalBytes: number, what: string): void {
  assertFitsWasm32(totalBytes, what);
  const missing = totalBytes - memory.buffer.byteLength;
  if (missing <= 0) return;
  try {
    memory.grow(Math.ceil(missing / WASM_PAGE_BYTES));
  } catch {
    throw new ResourceLimitError(
      `${what} needs ${formatBytes(totalBytes)} of WebAssembly memory and the engine refused to grow to it ` +
        '(the process or browser tab may have a lower limit); use a smaller batch or input size',
    );
  }
}
