/**
 * Multiply-adds of each planned kernel call, so profiles can report throughput per kernel family.
 */
import type { Step } from './program.js';

export function stepMultiplyAdds(step: Step): number {
  switch (step.kind) {
    case 'conv2d':
      return step.n * step.outHeight * step.outWidth * step.outChannels * step.inChannels * step.kernel * step.kernel;
    case 'depthwise':
      return step.n * step.outHeight * step.outWidth * step.channels * step.kernel * step.kernel;
    case 'pointwise':
      return step.rows * step.inChannels * step.outChannels;
    case 'se-gate':
      return 2 * step.n * step.channels * step.squeezed;
    default:
      return 0; // data movement and elementwise work: no multiply-adds
  }
}
