/**
 * The threaded build of the core (`build/efficientnet-threads.wasm`: the same kernels, compiled
 * with `--enable threads` to import one shared memory) and the checks that say whether this
 * environment can run it. Every check returns a reason a user can act on instead of throwing:
 * without threads the library still works, on one thread.
 */
import { compileCore, type WasmSource } from '../wasm.js';
import type { ExecutorKernels } from '../wasm-executor.js';
import { platform } from '../platform/detect.js';
import { errorMessage } from './protocol.js';
import type { WasmMemory, WasmModule } from '../wasm-types.js';

/** The threaded core's address in the package, beside the single-threaded one. */
const defaultThreadsWasmUrl = (): URL => new URL('../../../build/efficientnet-threads.wasm', import.meta.url);
/** The threaded relaxed-SIMD build (../simd.ts). */
export const relaxedThreadsWasmUrl = (): URL => new URL('../../../build/efficientnet-relaxed-threads.wasm', import.meta.url);

/** Pages the threaded core declares as its minimum (asconfig.json `initialMemory`). */
const INITIAL_PAGES = 16;
/** Pages the threaded core may grow to (asconfig.json `maximumMemory`): all of wasm32. */
const MAXIMUM_PAGES = 65536;

/** The most threads a model may use: beyond this the fixed work units of one step run out. */
export const MAX_THREADS = 16;

/** A result, or the reason there is none. */
export type Attempt<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface ThreadedCore {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  /** This thread's instance, on the shared memory. */
  readonly kernels: ExecutorKernels;
}

const NOT_ISOLATED = 'the page is not cross-origin isolated, so it may not share memory between threads (serve it with ' +
  'the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';

/** Why this environment cannot run worker threads on shared memory, or null if it can. */
export function environmentProblem(): string | null {
  const browser = !platform.isNode;
  if (browser && globalThis.crossOriginIsolated === false) return NOT_ISOLATED;
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') {
    return 'SharedArrayBuffer and Atomics are not available in this JavaScript engine';
  }
  if (browser && typeof Worker === 'undefined') return 'Web Workers are not available here';
  return null;
}

/** How many threads `auto` means here: the logical cores the engine reports, at most MAX_THREADS. */
export async function availableThreads(): Promise<number> {
  return Math.max(1, Math.min(MAX_THREADS, await platform.logicalCores()));
}

/** Compiles the threaded core and checks it is one: it must import a memory (the shared one). */
export async function compileThreadedCore(source: WasmSource = defaultThreadsWasmUrl()): Promise<Attempt<WasmModule>> {
  let module: WasmModule;
  try {
    module = await compileCore(source);
  } catch (error) {
    return { ok: false, reason: `the threaded WebAssembly core could not be loaded or compiled: ${errorMessage(error)}` };
  }
  const importsMemory = WebAssembly.Module.imports(module).some((i) => i.module === 'env' && i.name === 'memory' && i.kind === 'memory');
  if (!importsMemory) return { ok: false, reason: 'the threaded WebAssembly core does not import a shared memory (is it the threads build?)' };
  return { ok: true, value: module };
}

/** A shared memory and this thread's instance of the threaded core on it. */
export async function instantiateThreadedCore(module: WasmModule): Promise<Attempt<ThreadedCore>> {
  let memory: WasmMemory;
  try {
    memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
  } catch (error) {
    return { ok: false, reason: `this engine cannot create a shared WebAssembly memory: ${errorMessage(error)}` };
  }
  try {
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    return { ok: true, value: { module, memory, kernels: instance.exports as unknown as ExecutorKernels } };
  } catch (error) {
    return { ok: false, reason: `the threaded WebAssembly core could not be instantiated: ${errorMessage(error)}` };
  }
}
