/**
 * Row-wise softmax, softmax(x)_i = e^(x_i) / sum_j e^(x_j), computed as e^(x_i - max) / sum so no
 * term can overflow (the shift cancels in the ratio). Float64 throughout.
 */

/** input: [rows, cols]. Returns [rows, cols], each row summing to 1. */
export function referenceSoftmax(input: Float32Array, rows: number, cols: number): Float32Array {
  const output = new Float32Array(rows * cols); // [rows, cols]
  const exps = new Float64Array(cols); // [cols]
  for (let row = 0; row < rows; row++) {
    let max = -Infinity;
    for (let i = 0; i < cols; i++) max = Math.max(max, input[row * cols + i]);
    let sum = 0;
    for (let i = 0; i < cols; i++) {
      exps[i] = Math.exp(input[row * cols + i] - max);
      sum += exps[i];
    }
    for (let i = 0; i < cols; i++) output[row * cols + i] = exps[i] / sum;
  }
  return output;
}
