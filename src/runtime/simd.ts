/**
 * The two builds of the core and how to tell whether this engine can run the relaxed one.
 *
 * `deterministic` (the default): separate f32x4 multiply and add, so every engine on every CPU
 * gives the same bits. `relaxed` (opt-in): the GEMM and the stem conv use
 * f32x4.relaxed_madd, a fused multiply-add where the CPU has one; faster, but its results
 * differ from the default in the last bits and are not promised to match across machines
 * (assembly/madd.ts). Within one machine a relaxed model still gives the same bits for every
 * thread count: the work units do not change with it.
 */
import { platform } from './platform/detect.js';

export type SimdMode = 'deterministic' | 'relaxed';

/** The V8 flag that turns relaxed SIMD on in Node 20 (later versions have it on by default). */
export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/** Which build a model runs on, and why not the one asked for, if so. */
export interface SimdReport {
  readonly mode: SimdMode;
  readonly reason?: string;
}

/**
 * The smallest module that uses relaxed SIMD: one function computing
 * f32x4.relaxed_madd(0, 0, 0) and dropping it. Engines without relaxed SIMD reject it.
 */
const RELAXED_SIMD_PROBE = (() => {
  const zeroVector = [0xfd, 0x0c, ...new Array<number>(16).fill(0)]; // v128.const 0
  const body = [0x00, ...zeroVector, ...zeroVector, ...zeroVector, 0xfd, 0x85, 0x02, 0x1a, 0x0b]; // no locals; madd; drop; end
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: one type, () -> ()
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x0a, body.length + 2, 0x01, body.length, ...body, // code section: one body
  ]);
})();

/** Why this engine cannot run the relaxed build, or null if it can. */
export function relaxedSimdProblem(): string | null {
  if (WebAssembly.validate(RELAXED_SIMD_PROBE)) return null;
  if (platform.isNode) {
    return `this Node.js (V8 ${process.versions.v8}) does not enable WebAssembly relaxed SIMD; ` +
      `start it with ${RELAXED_SIMD_FLAG} (Node 22 and later have it on by default)`;
  }
  return 'this browser does not support WebAssembly relaxed SIMD';
}

/** Checks a `simd` option's value. */
export function isSimdMode(value: unknown): value is SimdMode {
  return value === 'deterministic' || value === 'relaxed';
}
