/**
 * `create` warms the model up (plans its native-resolution programs and runs a tiny zero image,
 * see EfficientNet.warmUp). That must be invisible: the same bits as an engine that never ran
 * the warm-up, at the native size, at the warm-up's own size and in a batch, on one thread and
 * two; and no more WebAssembly memory than the native programs need.
 */
import { describe, expect, it } from 'vitest';
import type * as Library from '../../src/index.js';
import type * as Network from '../../src/arch/network.js';
import type * as Plan from '../../src/plan/program.js';
import type * as Engine from '../../src/runtime/wasm-engine.js';
import type * as Recipe from '../../src/weights/recipe.js';

// Worker threads run the built `worker.js`, so this file uses the built package in `dist/`
// (`npm run build`, which `npm test` runs first), like the thread tests.
const built = async <T>(path: string): Promise<T> => (await import(new URL(`../../dist/${path}`, import.meta.url).href)) as T;
const { EfficientNet, createSyntheticWeights, parseSafetensors } = await built<typeof Library>('index.js');
const { buildNetwork } = await built<typeof Network>('arch/network.js');
const { WasmEngine } = await built<typeof Engine>('runtime/wasm-engine.js');
const { buildProgram } = await built<typeof Plan>('plan/program.js');
const { foldingRecipe } = await built<typeof Recipe>('weights/recipe.js');
type WasmEngine = Engine.WasmEngine;
type ProgramOptions = Plan.ProgramOptions;

const WEIGHTS = createSyntheticWeights({ variant: 'b0', seed: 23 });
const NATIVE = 224;

/** An NCHW input `[n, 3, size, size]` with values of both signs and no pattern the kernels could align with. */
function input(n: number, size: number): Float32Array {
  const data = new Float32Array(n * 3 * size * size); // [n, 3, size, size]
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 1.7 + Math.cos(i * 0.011);
  return data;
}

/** The same weights run directly on an engine, with no warm-up: the bits `create` must keep. */
async function unwarmedEngine(threads: number): Promise<{ engine: WasmEngine; run: (shape: [number, number, number, number], options?: ProgramOptions) => Promise<Float32Array[]> }> {
  const network = buildNetwork('b0');
  const engine = await WasmEngine.load(parseSafetensors(WEIGHTS), foldingRecipe(network), 1e-3, { threads });
  const run = async (shape: [number, number, number, number], options: ProgramOptions = {}): Promise<Float32Array[]> => {
    const outputs = await engine.run(buildProgram(network, 'same', shape, options), input(shape[0], shape[2]), {});
    return outputs.probabilities === null ? [outputs.logits, outputs.features] : [outputs.logits, outputs.features, outputs.probabilities];
  };
  return { engine, run };
}

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('the warm-up at create', () => {
  for (const threads of [1, 2]) {
    it(`leaves every result bit-identical to an engine that never warmed up (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
      const net = await EfficientNet.create({ variant: 'b0', weights: WEIGHTS, threads });
      const peer = await unwarmedEngine(threads);
      try {
        expect(net.threading, 'the test is void unless the model really runs on that many threads').toEqual({ threads });
        for (const shape of [[1, 3, NATIVE, NATIVE], [1, 3, 64, 64], [2, 3, 64, 64]] as [number, number, number, number][]) {
          const result = await net.forward(input(shape[0], shape[2]), shape, { probabilities: true });
          const expected = await peer.run(shape, { probabilities: true });
          expect(bytes(result.logits).equals(bytes(expected[0])), `logits at ${shape.join('x')}`).toBe(true);
          expect(bytes(result.features).equals(bytes(expected[1])), `features at ${shape.join('x')}`).toBe(true);
          expect(bytes(result.probabilities!).equals(bytes(expected[2])), `probabilities at ${shape.join('x')}`).toBe(true);
        }
      } finally {
        net.dispose();
        peer.engine.dispose();
      }
    }, 60_000);
  }

  it('takes no more WebAssembly memory than forward and classify need at the native size', async () => {
    const net = await EfficientNet.create({ variant: 'b0', weights: WEIGHTS });
    const peer = await unwarmedEngine(1);
    try {
      await peer.run([1, 3, NATIVE, NATIVE]);
      await peer.run([1, 3, NATIVE, NATIVE], { probabilities: true });
      const warmed = (net as unknown as { engine: WasmEngine }).engine;
      expect(warmed.memoryBytes).toBe(peer.engine.memoryBytes);
    } finally {
      net.dispose();
      peer.engine.dispose();
    }
  }, 60_000);
});
