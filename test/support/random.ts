/**
 * Seeded pseudo-random numbers for tests, so every failure reproduces exactly.
 * mulberry32 is a tiny 32-bit generator with a full 2^32 period: plenty for test data.
 */

/** A generator of uniform floats in [0, 1) determined entirely by `seed`. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` floats uniform in [-scale, scale). */
export function randomFloats(rng: () => number, n: number, scale: number): Float32Array {
  const values = new Float32Array(n); // [n]
  for (let i = 0; i < n; i++) values[i] = (rng() * 2 - 1) * scale;
  return values;
}
