import { beforeAll, describe, it } from 'vitest';
import type { BatchnormExports } from '../../src/runtime/kernels/batchnorm.js';
import { referenceBatchnormFold, type BatchNormParameters } from '../../src/runtime/reference/batchnorm.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { mulberry32, randomFloats } from '../support/random.js';
import { FLOAT32_EPSILON, expectSameBits, expectWithin } from '../support/tolerance.js';

let core: TestCore;
let kernels: BatchnormExports;

beforeAll(async () => {
  core = await createTestCore();
  kernels = core.exports as unknown as BatchnormExports;
});

function randomBatchNorm(rng: () => number, outChannels: number): BatchNormParameters {
  return {
    gamma: randomFloats(rng, outChannels, 2),
    beta: randomFloats(rng, outChannels, 1),
    mean: randomFloats(rng, outChannels, 1),
    variance: randomFloats(rng, outChannels, 1).map((v) => Math.abs(v) + 1e-4),
  };
}

function runFold(weight: Float32Array, outChannels: number, perOutput: number, bn: BatchNormParameters, eps: number) {
  core.reset();
  const weights = core.put(weight);
  const bias = core.alloc(outChannels);
  kernels.batchnorm_fold(weights, outChannels, perOutput, core.put(bn.gamma), core.put(bn.beta), core.put(bn.mean),
    core.put(bn.variance), eps, bias);
  return { weight: core.get(weights, weight.length), bias: core.get(bias, outChannels) };
}

describe('batchnorm_fold', () => {
  // Per-output sizes of a depthwise 3x3 and 5x5, the stem (3*3*3), 1x1 convs, and odd tails.
  const shapes = [[1, 1], [3, 9], [5, 25], [8, 27], [17, 4], [7, 5], [4, 40]] as const;

  for (const eps of [1e-3, 1e-5]) {
    it(`eps ${eps}: matches the reference within float32 rounding`, () => {
      // scale = gamma / sqrt(variance + eps) is three float32 roundings, the weight product one
      // more: 4 * 2^-23 relative is twice that. The bias beta - mean * scale carries the scale's
      // error on mean * scale, plus two roundings, bounded the same way on |beta| + |mean * scale|.
      let seed = 1;
      for (const [outChannels, perOutput] of shapes) {
        const rng = mulberry32(seed++);
        const weight = randomFloats(rng, outChannels * perOutput, 1);
        const bn = randomBatchNorm(rng, outChannels);
        const expected = referenceBatchnormFold(weight, [outChannels, perOutput], bn, eps);
        const actual = runFold(weight, outChannels, perOutput, bn, eps);
        const label = `[${outChannels}, ${perOutput}]`;
        expectWithin(actual.weight, expected.weight, (i) => 4 * FLOAT32_EPSILON * Math.abs(expected.weight[i]), `${label} weights`);
        expectWithin(actual.bias, expected.bias, (o) => {
          const meanScaled = Math.abs(bn.mean[o] * (bn.gamma[o] / Math.sqrt(bn.variance[o] + eps)));
          return 4 * FLOAT32_EPSILON * (Math.abs(bn.beta[o]) + meanScaled);
        }, `${label} bias`);
      }
    });
  }

  it('every weight, in the vector body or the scalar tail, is exactly round(w * scale) with the float32 scale', () => {
    // Float64 evaluation of one float32 operation followed by rounding to float32 is exactly the
    // float32 operation (division and square root included), so the scale can be replayed here.
    const rng = mulberry32(77);
    const [outChannels, perOutput] = [6, 11];
    const weight = randomFloats(rng, outChannels * perOutput, 1);
    const bn = randomBatchNorm(rng, outChannels);
    const eps = Math.fround(1e-3);
    const expected = weight.map((w, i) => {
      const o = Math.floor(i / perOutput);
      const scale = Math.fround(bn.gamma[o] / Math.fround(Math.sqrt(Math.fround(bn.variance[o] + eps))));
      return Math.fround(w * scale);
    });
    expectSameBits(runFold(weight, outChannels, perOutput, bn, eps).weight, expected, 'folded weights');
  });
});
