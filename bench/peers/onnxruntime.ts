/**
 * The second peer: the same EfficientNet, same weights, exported by this project's ONNX exporter
 * (src/onnx/export.ts) and run by ONNX Runtime Web on its WebAssembly backend (MLAS kernels,
 * graph optimisations at level `all`). Only the bench and the ONNX cross-check test use this.
 *
 * ONNX Runtime Web creates its thread pool once, when the first session of a process initialises
 * the WebAssembly module (`env.wasm.numThreads` is read then and never again). One process can
 * therefore run ORT with one thread count only: `initOnnxRuntime` refuses a second, different one,
 * and a bench that wants both runs the other count in a child process.
 */
import * as ort from 'onnxruntime-web';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { NetworkSpec } from '../../src/arch/network.js';
import type { PaddingMode } from '../../src/arch/padding.js';
import { exportOnnx } from '../../src/onnx/export.js';
import type { SafetensorsFile } from '../../src/weights/safetensors.js';

export interface OnnxRuntimeModel {
  /** NCHW float32 `[n, 3, h, w]` in, logits `[n, classes]` out. */
  forward(input: Float32Array, shape: readonly [number, number, number, number]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface OnnxOutputs {
  readonly logits: Float32Array; // [n, classes]
  readonly features: Float32Array; // [n, head]
}

let processThreads: number | null = null;

/**
 * Points ORT at the `.wasm` and `.mjs` files inside node_modules (never a CDN: the machine is
 * offline) and fixes the process's thread count.
 */
export function initOnnxRuntime(threads: number): void {
  if (processThreads !== null && processThreads !== threads) {
    throw new Error(`ONNX Runtime Web already runs with ${processThreads} thread(s) in this process; ${threads} needs a new process`);
  }
  const require = createRequire(import.meta.url);
  const wasmFile = require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
  ort.env.wasm.wasmPaths = `${pathToFileURL(dirname(wasmFile)).href}/`;
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  processThreads = threads;
}

/** Creates a session on an exported model; the thread count must match any session already made in this process. */
export async function createOnnxSession(model: Uint8Array, threads: number): Promise<ort.InferenceSession> {
  initOnnxRuntime(threads);
  return ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

export async function runOnnxSession(
  session: ort.InferenceSession, input: Float32Array, shape: readonly [number, number, number, number],
): Promise<OnnxOutputs> {
  const tensor = new ort.Tensor('float32', input, [...shape]);
  const results = await session.run({ input: tensor });
  const outputs = { logits: results.logits.data as Float32Array, features: results.features.data as Float32Array };
  tensor.dispose();
  results.logits.dispose();
  results.features.dispose();
  return outputs;
}

export async function buildOnnxRuntimeModel(
  network: NetworkSpec, file: SafetensorsFile, padding: PaddingMode, bnEps: number, threads: number,
): Promise<OnnxRuntimeModel> {
  const session = await createOnnxSession(exportOnnx({ network, weights: file, padding, bnEps }), threads);
  return {
    forward: async (input, shape) => (await runOnnxSession(session, input, shape)).logits,
    dispose: () => session.release(),
  };
}
