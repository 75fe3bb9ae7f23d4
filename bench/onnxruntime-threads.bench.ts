/**
 * ONNX Runtime Web with several threads, EfficientNet-B0 at 224, batch 1. It has a process of its
 * own because ORT fixes its thread pool when the first session of a process initialises its
 * WebAssembly module, so the one-thread peer in end-to-end.bench.ts and this one cannot share a
 * process. end-to-end.bench.ts runs it as a child; alone:
 *
 *   node dist-bench/bench/onnxruntime-threads.bench.js [threads]     (default 2)
 *
 * Prints one JSON line: { threads, medianMs, samples, maxDiff } with maxDiff the largest
 * |ORT - ours| logit difference, checked before any timing.
 */
import { buildNetwork } from '../src/arch/network.js';
import { EfficientNet } from '../src/efficientnet.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { buildOnnxRuntimeModel } from './peers/onnxruntime.js';
import { b0Workload, interleave } from './support.js';

const RESOLUTION = 224;
const THREADS = Number(process.argv[2] ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5);

const { bytes, shape, input } = b0Workload(RESOLUTION);

const ours = await EfficientNet.create({ variant: 'b0', weights: bytes });
const peer = await buildOnnxRuntimeModel(buildNetwork('b0'), parseSafetensors(bytes), 'same', 1e-3, THREADS);

const expected = (await ours.forward(input, shape)).logits;
const actual = await peer.forward(input, shape);
const maxDiff = expected.reduce((max, v, i) => Math.max(max, Math.abs(v - actual[i])), 0);
ours.dispose();
if (!(maxDiff < 1e-3)) throw new Error(`ONNX Runtime with ${THREADS} threads computes a different network (max |diff| ${maxDiff})`);

const [result] = await interleave([{ name: `onnxruntime-web ${THREADS} threads`, run: () => peer.forward(input, shape) }], ROUNDS, ITERATIONS);
await peer.dispose();
console.log(JSON.stringify({ threads: THREADS, medianMs: result.medianMs, samples: result.samples, maxDiff }));
