/** Types of the core's pooling export (assembly/pool.ts). Pointers are byte offsets into the core's memory. */

type Pointer = number;

export interface PoolExports {
  /** output `[n, c]` = mean over hw of input `[n, hw, c]`. */
  global_average_pool(input: Pointer, n: number, hw: number, c: number, output: Pointer): void;
}
