/**
 * topPredictions keeps the k best by insertion instead of sorting every class; its answer must be
 * exactly the first k of the full sort (value descending, ties by the lower index), including
 * ties, signed zeros, infinities and NaNs.
 */
import { describe, expect, it } from 'vitest';
import { topPredictions } from '../../src/efficientnet.js';

/** The definition: every index sorted, then the first k. */
function fullSort(values: Float32Array, topk: number): number[] {
  return Array.from(values.keys()).sort((a, b) => values[b] - values[a] || a - b).slice(0, topk);
}

/** Deterministic values with many exact ties (few distinct levels) or none (continuous). */
function values(length: number, seed: number, levels: number | null): Float32Array {
  let state = seed;
  const next = (): number => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return Float32Array.from({ length }, () => (levels === null ? next() : Math.floor(next() * levels) / levels));
}

describe('topPredictions', () => {
  it('equals the first k of a full sort, with and without ties, for k from 1 to every class', () => {
    for (const [seed, levels] of [[1, null], [2, 7], [3, 2], [4, 1]] as const) {
      const probabilities = values(1000, seed, levels);
      for (const topk of [1, 2, 5, 17, 999, 1000]) {
        expect(topPredictions(probabilities, topk, false).map((p) => p.index)).toEqual(fullSort(probabilities, topk));
      }
    }
  });

  it('orders signed zeros, infinities and NaNs as the full sort does', () => {
    const specials = Float32Array.from([0, -0, Infinity, 0.5, -Infinity, Infinity, -0, 0.5]);
    for (let topk = 1; topk <= specials.length; topk++) {
      expect(topPredictions(specials, topk, false).map((p) => p.index)).toEqual(fullSort(specials, topk));
    }
    const withNaN = Float32Array.from([0.1, NaN, 0.3, 0.2]);
    expect(topPredictions(withNaN, 2, false).map((p) => p.index)).toEqual(fullSort(withNaN, 2));
  });

  it('names each class and carries the value and the synthetic flag', () => {
    const probabilities = Float32Array.from([0.25, 0.5, 0.25]);
    expect(topPredictions(probabilities, 2, true, ['a', 'b', 'c'])).toEqual([
      { index: 1, label: 'b', probability: 0.5, synthetic: true },
      { index: 0, label: 'a', probability: 0.25, synthetic: true },
    ]);
  });
});
