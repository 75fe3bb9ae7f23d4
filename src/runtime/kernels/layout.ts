/** Types of the core's layout exports (assembly/layout.ts): exact copies between NCHW and NHWC. */

type Pointer = number;

export interface LayoutExports {
  /** input `[n, c, h, w]` -> output `[n, h, w, c]`; buffers must not overlap. */
  nchw_to_nhwc(input: Pointer, n: number, c: number, h: number, w: number, output: Pointer): void;
  /** input `[n, h, w, c]` -> output `[n, c, h, w]`; buffers must not overlap. */
  nhwc_to_nchw(input: Pointer, n: number, h: number, w: number, c: number, output: Pointer): void;
}
