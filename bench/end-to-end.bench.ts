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
import { buildTfjsWasmModel } from './peers/tfjs-wasm.js';
import { buildOnnxRuntimeModel } from './peers/onnxruntime.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { b0Workload, interleave, machineLine } from './support.js';

const RESOLUTION = 224;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5);

const { bytes, shape, input } = b0Workload(RESOLUTION);

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

// Two threads. ORT fixes its thread count per process, so it runs in its own process; ours runs
// here, interleaved with our one-thread model, right after it.
const child = spawnSync(process.execPath, [fileURLToPath(new URL('./onnxruntime-threads.bench.js', import.meta.url)), '2'], {
  encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
});
if (child.status !== 0) throw new Error(`the two-thread ONNX Runtime bench failed (exit ${child.status})`);
const twoThreads = JSON.parse(child.stdout.trim().split('\n').pop()!) as { medianMs: number; samples: number; maxDiff: number };
const oursOne = await EfficientNet.create({ variant: 'b0', weights: bytes });
const oursTwo = await EfficientNet.create({ variant: 'b0', weights: bytes, threads: 2 });
if (oursTwo.threading.threads !== 2) throw new Error(`no worker pool here: ${oursTwo.threading.reason}`);
const same = Buffer.from((await oursOne.forward(input, shape)).logits.buffer).equals(Buffer.from((await oursTwo.forward(input, shape)).logits.buffer));
if (!same) throw new Error('two threads changed the logits; results must not depend on the thread count');
const threaded = await interleave([
  { name: '1 thread', run: () => oursOne.forward(input, shape) },
  { name: '2 threads', run: () => oursTwo.forward(input, shape) },
], ROUNDS, ITERATIONS);
const [one, two] = threaded.map((r) => r.medianMs);
console.log(`EfficientNet-B0 ${RESOLUTION}x${RESOLUTION}, batch 1, 2 threads (logits identical to 1 thread; onnxruntime-web in its own process, agrees to ${twoThreads.maxDiff.toExponential(2)})`);
console.log(`  ${'efficientnet-wasm'.padEnd(20)} median ${two.toFixed(1).padStart(6)} ms  (${threaded[1].samples} runs)  speed-up over 1 thread ${(one / two).toFixed(2)} ` +
  `(1 thread interleaved: ${one.toFixed(1)} ms)  ratio to onnxruntime-web 2 threads ${(two / twoThreads.medianMs).toFixed(2)}`);
console.log(`  ${'onnxruntime-web'.padEnd(20)} median ${twoThreads.medianMs.toFixed(1).padStart(6)} ms  (${twoThreads.samples} runs)  speed-up over its 1-thread median ${(ortBase / twoThreads.medianMs).toFixed(2)}`);
oursOne.dispose();
oursTwo.dispose();

// Throughput at batch 8, one thread.
const batch8 = await EfficientNet.create({ variant: 'b0', weights: bytes });
const input8 = new Float32Array(8 * input.length); // [8, 3, 224, 224]
for (let i = 0; i < 8; i++) input8.set(input, i * input.length);
const [batchResult] = await interleave([{ name: 'batch 8', run: () => batch8.forward(input8, [8, 3, RESOLUTION, RESOLUTION]) }], 2, 3);
console.log(`EfficientNet-B0 ${RESOLUTION}x${RESOLUTION}, batch 8, 1 thread: median ${batchResult.medianMs.toFixed(0)} ms, ${(8000 / batchResult.medianMs).toFixed(1)} images/s`);
batch8.dispose();
