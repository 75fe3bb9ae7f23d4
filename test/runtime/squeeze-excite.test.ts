import { beforeAll, describe, expect, it } from 'vitest';
import type { SqueezeExciteExports } from '../../src/runtime/kernels/squeeze-excite.js';
import { referenceSwish } from '../../src/runtime/reference/math.js';
import {
  referenceChannelScale, referenceSqueezeExcite, type SqueezeExciteWeights,
} from '../../src/runtime/reference/squeeze-excite.js';
import { createTestCore, type TestCore } from '../support/core.js';
import { mulberry32, randomFloats } from '../support/random.js';
import {
  SIGMOID_MAX_SLOPE, SIGMOID_RELATIVE_ERROR, SWISH_MAX_SLOPE, SWISH_RELATIVE_ERROR,
  expectSameBits, expectWithin, sumErrorBound,
} from '../support/tolerance.js';

let core: TestCore;
let kernels: SqueezeExciteExports;

beforeAll(async () => {
  core = await createTestCore();
  kernels = core.exports as unknown as SqueezeExciteExports;
});

interface GateCase {
  n: number;
  c: number;
  r: number;
  spatial: number;
}

function randomCase({ n, c, r, spatial }: GateCase, seed: number): { sums: Float32Array; weights: SqueezeExciteWeights } {
  const rng = mulberry32(seed);
  return {
    // Sums of `spatial` activations of size ~1, so the means are ~1 whatever spatial is.
    sums: randomFloats(rng, n * c, spatial),
    weights: {
      reduceWeight: randomFloats(rng, r * c, 1 / Math.sqrt(c)),
      reduceBias: randomFloats(rng, r, 0.5),
      expandWeight: randomFloats(rng, c * r, 2 / Math.sqrt(r)),
      expandBias: randomFloats(rng, c, 1),
    },
  };
}

function runGate({ n, c, r, spatial }: GateCase, sums: Float32Array, w: SqueezeExciteWeights): Float32Array {
  core.reset();
  const gate = core.alloc(n * c);
  kernels.squeeze_excite_gate(core.put(sums), n, c, spatial, core.put(w.reduceWeight), core.put(w.reduceBias), r,
    core.put(w.expandWeight), core.put(w.expandBias), core.alloc(r), gate);
  return core.get(gate, n * c);
}

/**
 * Error propagated through the two layers, per image:
 * - hidden_j = swish(Wr_j . sums / spatial + br_j): c products, the division and the bias are
 *   c + 2 rounded terms -> pre-activation bound; swish adds slope * that + its relative error.
 * - gate_i = sigmoid(We_i . hidden + be_i): the hidden errors weighted by |We|, plus r + 1
 *   rounded terms; sigmoid's slope is at most 1/4, plus its relative error.
 */
function gateBounds({ n, c, r, spatial }: GateCase, sums: Float32Array, w: SqueezeExciteWeights): Float64Array {
  const bounds = new Float64Array(n * c); // [n, c]
  const hidden = new Float64Array(r); // [r]
  const hiddenBound = new Float64Array(r); // [r]
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < r; j++) {
      let pre = w.reduceBias[j];
      let magnitude = Math.abs(w.reduceBias[j]);
      for (let ch = 0; ch < c; ch++) {
        const term = (w.reduceWeight[j * c + ch] * sums[b * c + ch]) / spatial;
        pre += term;
        magnitude += Math.abs(term);
      }
      hidden[j] = referenceSwish(pre);
      hiddenBound[j] = SWISH_MAX_SLOPE * sumErrorBound(c + 2, magnitude) + SWISH_RELATIVE_ERROR * Math.abs(hidden[j]);
    }
    for (let ch = 0; ch < c; ch++) {
      let pre = w.expandBias[ch];
      let magnitude = Math.abs(w.expandBias[ch]);
      let propagated = 0;
      for (let j = 0; j < r; j++) {
        pre += w.expandWeight[ch * r + j] * hidden[j];
        magnitude += Math.abs(w.expandWeight[ch * r + j] * hidden[j]);
        propagated += Math.abs(w.expandWeight[ch * r + j]) * hiddenBound[j];
      }
      const gate = 1 / (1 + Math.exp(-pre));
      bounds[b * c + ch] = SIGMOID_MAX_SLOPE * (propagated + sumErrorBound(r + 1, magnitude)) + SIGMOID_RELATIVE_ERROR * gate;
    }
  }
  return bounds;
}

describe('squeeze_excite_gate against the reference', () => {
  it('every channel count, squeezed width, pixel count and batch size', () => {
    let seed = 1;
    for (const c of [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 40]) {
      for (const r of [1, 2, 3, 4, 5, 10]) {
        for (const spatial of [1, 49, 3136]) {
          for (const n of [1, 2]) {
            const gateCase: GateCase = { n, c, r, spatial };
            const { sums, weights } = randomCase(gateCase, seed++);
            const expected = referenceSqueezeExcite(sums, [n, c], spatial, weights);
            const bounds = gateBounds(gateCase, sums, weights);
            expectWithin(runGate(gateCase, sums, weights), expected, (i) => bounds[i], JSON.stringify(gateCase));
          }
        }
      }
    }
  });

  it('an image has the same gate bits alone or second in a batch of 2', () => {
    const pair: GateCase = { n: 2, c: 24, r: 6, spatial: 196 };
    const { sums, weights } = randomCase(pair, 42);
    const pairGate = runGate(pair, sums, weights);
    const singleGate = runGate({ ...pair, n: 1 }, sums.slice(pair.c), weights);
    expectSameBits(singleGate, pairGate.slice(pair.c), 'second image');
  });
});

describe('squeeze_excite_gate groups of four channels', () => {
  it("gives a channel's gate the same bits whether it falls in a group of four or in the tail", () => {
    // Only channel 0 feeds the bottleneck (the other reduce weights are 0, so their products add
    // exact zeros): moving channels 1..c-1 around then leaves the hidden units' bits unchanged, and
    // each channel's gate depends only on its own expand row and bias.
    // r from below one vector to several with a tail; c with a tail of 1 to 3 channels.
    for (const [c, r] of [[7, 3], [9, 8], [6, 13], [23, 16], [19, 24], [31, 48], [45, 22]] as const) {
      // Eight images: a summation order that differs in the last bit shows in only some gates
      // after the sigmoid rounds, so many gates make a wrong order certain to show.
      const base: GateCase = { n: 8, c, r, spatial: 49 };
      const { sums, weights } = randomCase(base, 500 + c);
      const sumsPositive = sums.map(Math.abs);
      const reduceWeight = weights.reduceWeight.map((w, index) => (index % c === 0 ? w : 0));
      const original = runGate(base, sumsPositive, { ...weights, reduceWeight });
      // Channel 1 + k moves to 1 + (k + shift) % (c - 1): the channels of the tail (the last c % 4)
      // land in groups of four, and as many from groups land in the tail.
      const shift = c % 4;
      const moved = (ch: number): number => (ch === 0 ? 0 : 1 + ((ch - 1 + shift) % (c - 1)));
      /** Moves channel blocks of `width` floats; data is `[images, c, width]`. */
      const permute = (data: Float32Array, width: number): Float32Array => {
        const out = new Float32Array(data.length);
        for (let image = 0; image < data.length / (c * width); image++) {
          const at = image * c * width;
          for (let ch = 0; ch < c; ch++) out.set(data.subarray(at + ch * width, at + (ch + 1) * width), at + moved(ch) * width);
        }
        return out;
      };
      const permutedReduce = new Float32Array(r * c); // [r, c]
      for (let j = 0; j < r; j++) for (let ch = 0; ch < c; ch++) permutedReduce[j * c + moved(ch)] = reduceWeight[j * c + ch];
      const permutedGate = runGate(base, permute(sumsPositive, 1), {
        reduceWeight: permutedReduce, reduceBias: weights.reduceBias,
        expandWeight: permute(weights.expandWeight, r), expandBias: permute(weights.expandBias, 1),
      });
      expectSameBits(permute(original, 1), permutedGate, `c ${c} r ${r}`);
    }
  });
});

describe('channel_scale', () => {
  it('multiplies each pixel by its image gate exactly (one float32 multiply per element)', () => {
    let seed = 100;
    for (const c of [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 40]) {
      for (const hw of [1, 2, 25, 49]) {
        for (const n of [1, 2]) {
          const rng = mulberry32(seed++);
          const data = randomFloats(rng, n * hw * c, 3);
          const gate = randomFloats(rng, n * c, 1);
          core.reset();
          const buffer = core.put(data);
          kernels.channel_scale(buffer, n, hw, c, core.put(gate));
          // The reference's float64 product of two float32 values is exact, so storing it rounds once, as the core does.
          expectSameBits(core.get(buffer, data.length), referenceChannelScale(data, [n, hw, c], gate), `c=${c} hw=${hw} n=${n}`);
          expect(core.get(buffer + data.length * 4, 16).every((x) => x === 0), 'nothing written past the data').toBe(true);
        }
      }
    }
  });
});
