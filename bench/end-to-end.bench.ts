/**
 * End-to-end latency, EfficientNet-B0 at 224, batch 1, one thread: this project's core against
 * TensorFlow.js's WASM backend (XNNPACK) running the same network with the same weights in the
 * same process, interleaved. Also checks that both give the same logits before timing anything.
 *
 *   npm run bench
 */
import { buildNetwork } from '../src/arch/network.js';
import { EfficientNet } from '../src/efficientnet.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { createSyntheticWeights } from '../src/weights/synthetic.js';
import { buildTfjsWasmModel } from './peers/tfjs-wasm.js';
import { interleave, machineLine } from './support.js';

const RESOLUTION = 224;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5);

const bytes = createSyntheticWeights({ variant: 'b0', seed: 1 });
const shape = [1, 3, RESOLUTION, RESOLUTION] as const;
const input = new Float32Array(3 * RESOLUTION * RESOLUTION); // [1, 3, 224, 224]
for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.01);

const ours = await EfficientNet.create({ variant: 'b0', weights: bytes });
const tfjs = await buildTfjsWasmModel(buildNetwork('b0'), parseSafetensors(bytes), 'same', 1e-3);

const a = (await ours.forward(input, shape)).logits;
const b = tfjs.forward(input, shape);
let maxDiff = 0;
for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
console.log(`logits agree: max |ours - tfjs-wasm| = ${maxDiff.toExponential(2)}`);
if (!(maxDiff < 1e-3)) throw new Error('the peer computes a different network; timings would not be comparable');

const results = await interleave([
  { name: 'efficientnet-wasm', run: () => ours.forward(input, shape) },
  { name: 'tfjs-backend-wasm', run: () => tfjs.forward(input, shape) },
], ROUNDS, ITERATIONS);

console.log(`EfficientNet-B0 ${RESOLUTION}x${RESOLUTION}, batch 1, 1 thread; ${machineLine()}`);
const base = results.find((r) => r.name === 'tfjs-backend-wasm')!.medianMs;
for (const r of results) {
  console.log(`  ${r.name.padEnd(20)} median ${r.medianMs.toFixed(1).padStart(6)} ms  (${r.samples} runs)  ratio to tfjs-wasm ${(r.medianMs / base).toFixed(2)}`);
}
ours.dispose();
tfjs.dispose();
