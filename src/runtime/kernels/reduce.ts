/** Types of the core's band-sum export (assembly/reduce.ts). Pointers are byte offsets into the core's memory. */

type Pointer = number;

export interface ReduceExports {
  /** output `[n, c]` = partials `[n, bands, c]` summed over bands, in band order, in float32. */
  sum_bands(partials: Pointer, n: number, bands: number, c: number, output: Pointer): void;
}
