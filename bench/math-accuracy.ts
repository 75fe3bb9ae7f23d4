/**
 * Measures the core's exp, sigmoid and swish against float64 references over EVERY normal float32
 * in [-87, 88] (2.2e9 inputs, about 2 minutes). This is where the bounds stated in
 * assembly/math.ts and test/support/tolerance.ts come from; run it after changing assembly/math.ts.
 *
 *   npx tsc -p tsconfig.bench.json && ln -sfn ../build dist-bench/build && node dist-bench/bench/math-accuracy.js
 */
import type { MathExports } from '../src/runtime/kernels/math.js';
import { referenceSigmoid, referenceSwish } from '../src/runtime/reference/math.js';
import { instantiateCore } from '../src/runtime/wasm.js';

const CHUNK = 1 << 20;
const bitsOf = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];
const SMALLEST_NORMAL_BITS = 0x00800000;
const MINUS_SMALLEST_NORMAL_BITS = 0x80800000;

const core = await instantiateCore();
const kernels = core as unknown as MathExports;
const base = Math.ceil(Number((core.heap_base as () => number)()) / 16) * 16;
const input = base; // [CHUNK]
const output = base + CHUNK * 4; // [CHUNK]
core.memory.grow(Math.ceil((output + CHUNK * 4 - core.memory.buffer.byteLength) / 65536) + 1);

type MathName = 'vector_exp' | 'vector_sigmoid' | 'vector_swish';

function worstOver(name: MathName, exact: (x: number) => number, first: number, last: number): number {
  let worst = 0;
  for (let start = first; start <= last; start += CHUNK) {
    const count = Math.min(CHUNK, last - start + 1);
    const bits = new Uint32Array(core.memory.buffer, input, count);
    for (let i = 0; i < count; i++) bits[i] = start + i;
    kernels[name](input, output, count);
    const xs = new Float32Array(core.memory.buffer, input, count);
    const ys = new Float32Array(core.memory.buffer, output, count);
    for (let i = 0; i < count; i++) {
      const expected = exact(xs[i]);
      worst = Math.max(worst, Math.abs(ys[i] - expected) / Math.abs(expected));
    }
  }
  return worst;
}

for (const [name, exact] of [['vector_exp', Math.exp], ['vector_sigmoid', referenceSigmoid], ['vector_swish', referenceSwish]] as const) {
  const worst = Math.max(
    worstOver(name, exact, SMALLEST_NORMAL_BITS, bitsOf(88)),
    worstOver(name, exact, MINUS_SMALLEST_NORMAL_BITS, bitsOf(-87)),
  );
  console.log(`${name.replace('vector_', '').padEnd(8)} max relative error over every normal float32 in [-87, 88]: ${worst.toExponential(3)}`);
}
