/**
 * Types of the core's elementwise test entry points (assembly/math.ts). The kernels use exp,
 * sigmoid and swish inline; these exports exist so tests can measure them directly.
 */

type Pointer = number;

export interface MathExports {
  /** output `[count]` = exp(input `[count]`); +Infinity above ln(FLT_MAX), 0 where the result is below the smallest normal. */
  vector_exp(input: Pointer, output: Pointer, count: number): void;
  /** output `[count]` = sigmoid(input `[count]`). */
  vector_sigmoid(input: Pointer, output: Pointer, count: number): void;
  /** output `[count]` = swish(input `[count]`) = x * sigmoid(x). */
  vector_swish(input: Pointer, output: Pointer, count: number): void;
  /** output `[count]` = activation(input `[count]`) for an ACTIVATION_* code, through the kernels' epilogue pass. */
  vector_activate(input: Pointer, output: Pointer, count: number, activation: number): void;
}
