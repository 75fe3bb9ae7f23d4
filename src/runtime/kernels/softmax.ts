/** Types of the core's softmax export (assembly/softmax.ts). Pointers are byte offsets into the core's memory. */

type Pointer = number;

export interface SoftmaxExports {
  /** Row-wise, numerically stable softmax of input `[rows, cols]` into output `[rows, cols]`; output may alias input. */
  softmax(input: Pointer, rows: number, cols: number, output: Pointer): void;
}
