/**
 * End-to-end latency, EfficientNet-B0 at 224, batch 1, one thread: this project's core against
 * TensorFlow.js's WASM backend (XNNPACK) and ONNX Runtime Web (its WASM backend, MLAS, on our own
 * ONNX export) running the same network with the same weights in the same process, interleaved.
 * Also checks that all give the same logits before timing anything. Then ONNX Runtime alone with
 * two threads, in a child process (ORT fixes its thread count once per process).
 *
 *   npm run bench
 */
import { buildNetwork } from '../src/arch/network.js';
import { EfficientNet } from '../src/efficientnet.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { createSyntheticWeights } from '../src/weights/synthetic.js';
import { buildTfjsWasmModel } from './peers/tfjs-wasm.js';
import { buildOnnxRuntimeModel } from './peers/onnxruntime.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
const onnxRuntime = await buildOnnxRuntimeModel(buildNetwork('b0'), parseSafetensors(bytes), 'same', 1e-3, 1);

const a = (await ours.forward(input, shape)).logits;
const b = tfjs.forward(input, shape);
let maxDiff = 0;
for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
console.log(`logits agree: max |ours - tfjs-wasm| = ${maxDiff.toExponential(2)}`);
if (!(maxDiff < 1e-3)) throw new Error('the peer computes a different network; timings would not be comparable');
const c = await onnxRuntime.forward(input, shape);
const ortDiff = a.reduce((max, v, i) => Math.max(max, Math.abs(v - c[i])), 0);
console.log(`logits agree: max |ours - onnxruntime-web| = ${ortDiff.toExponential(2)}`);
if (!(ortDiff < 1e-3)) throw new Error('onnxruntime-web computes a different network; timings would not be comparable');

const results = await interleave([
  { name: 'efficientnet-wasm', run: () => ours.forward(input, shape) },
  { name: 'tfjs-backend-wasm', run: () => tfjs.forward(input, shape) },
  { name: 'onnxruntime-web', run: () => onnxRuntime.forward(input, shape) },
], ROUNDS, ITERATIONS);

console.log(`EfficientNet-B0 ${RESOLUTION}x${RESOLUTION}, batch 1, 1 thread; ${machineLine()}`);
const base = results.find((r) => r.name === 'tfjs-backend-wasm')!.medianMs;
const ortBase = results.find((r) => r.name === 'onnxruntime-web')!.medianMs;
for (const r of results) {
  console.log(`  ${r.name.padEnd(20)} median ${r.medianMs.toFixed(1).padStart(6)} ms  (${r.samples} runs)  ratio to tfjs-wasm ${(r.medianMs / base).toFixed(2)}` +
    `  ratio to onnxruntime-web ${(r.medianMs / ortBase).toFixed(2)}`);
}
ours.dispose();
tfjs.dispose();
await onnxRuntime.dispose();

// Two threads: ORT only, as our core has no worker pool yet. Its own process, measured after the section above.
const child = spawnSync(process.execPath, [fileURLToPath(new URL('./onnxruntime-threads.bench.js', import.meta.url)), '2'], {
  encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
});
if (child.status !== 0) throw new Error(`the two-thread ONNX Runtime bench failed (exit ${child.status})`);
const twoThreads = JSON.parse(child.stdout.trim().split('\n').pop()!) as { medianMs: number; samples: number; maxDiff: number };
console.log(`EfficientNet-B0 ${RESOLUTION}x${RESOLUTION}, batch 1, 2 threads (onnxruntime-web only; separate process, logits agree to ${twoThreads.maxDiff.toExponential(2)})`);
console.log(`  ${'onnxruntime-web'.padEnd(20)} median ${twoThreads.medianMs.toFixed(1).padStart(6)} ms  (${twoThreads.samples} runs)  speed-up over its 1-thread median ${(ortBase / twoThreads.medianMs).toFixed(2)}`);
