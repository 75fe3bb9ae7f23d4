/** Types of the core's BatchNorm folding export (assembly/batchnorm.ts). Pointers are byte offsets. */

type Pointer = number;

export interface BatchnormExports {
  /**
   * Folds inference BN into the preceding conv: weights `[outChannels, perOutput]` are scaled in
   * place by s = gamma / sqrt(variance + eps) per output channel, and biasOut `[outChannels]`
   * receives beta - mean * s. gamma, beta, mean, variance: `[outChannels]`.
   */
  batchnorm_fold(
    weights: Pointer, outChannels: number, perOutput: number, gamma: Pointer, beta: Pointer,
    mean: Pointer, variance: Pointer, eps: number, biasOut: Pointer,
  ): void;
}
