/**
 * The SIMD core with a model's packed weights, and the prepared programs for each input shape
 * seen so far. On one thread it runs each step's work units in order; with a thread pool the
 * workers share them out, on the same shared memory and with the same bits.
 */
import type { Program } from '../plan/program.js';
import { elementCount } from '../plan/program.js';
import { planScheduledMemory, schedulePhases } from '../plan/schedule.js';
import type { FoldedTensor } from '../weights/recipe.js';
import type { WeightSource } from '../weights/source.js';
import { activationCode, loadKernels } from './kernels.js';
import { assertFitsWasm32, ensureMemory } from './memory-limits.js';
import { layoutWeights, packWeights, type WeightLayout } from './packed-weights.js';
import type { Engine, ProgramOutputs, RunOptions } from './outputs.js';
import { relaxedSimdProblem, type SimdMode, type SimdReport } from './simd.js';
import {
  compileThreadedCore, environmentProblem, instantiateThreadedCore, relaxedThreadsWasmUrl, type Attempt, type ThreadedCore,
} from './threads/core.js';
import { bindPhases, planPhases, stepPhases } from './threads/phase-plan.js';
import { defaultCoordinator, ThreadPool, type Coordinator } from './threads/pool.js';
import { prepareProgram, type ExecutorKernels, type PreparedProgram } from './wasm-executor.js';
import { relaxedWasmUrl, type WasmSource } from './wasm.js';

export interface EngineOptions {
  /** Where to load the single-threaded core from (default: the package's). */
  readonly wasm?: WasmSource;
  /** Threads to run on; above 1 a pool of workers is started, or the reason it cannot be is reported. */
  readonly threads?: number;
  /** Where to load the threaded core from (default: the package's `build/efficientnet-threads.wasm`). */
  readonly threadsWasm?: WasmSource;
  /**
   * `relaxed` loads the relaxed-SIMD builds by default (simd.ts), or reports why it cannot;
   * `wasm` and `threadsWasm` still win when given. What runs is read from the loaded core.
   */
  readonly simd?: SimdMode;
  /**
   * Which thread coordinates runs (see `threads/pool.ts`): by default this one where it may block
   * (Node, workers), else a worker (a browser's main thread). Tests choose `worker` to run the
   * browsers' way in Node.
   */
  readonly coordinator?: Coordinator;
}

/** How many threads an engine runs on, and why fewer than asked for, if so. */
export interface ThreadingReport {
  readonly threads: number;
  readonly reason?: string;
}

interface Prepared extends PreparedProgram {
  /** The id the pool's workers know this program's step plan by; its phases are `id + 1`. */
  readonly id: number;
  /** The scheduled run (plan/schedule.ts), per phase one call per unit bound here: how unhooked runs go. */
  readonly phases: readonly (readonly (() => void)[])[];
}

/** The threaded core with its pool started, or why there is none. */
async function startThreads(
  threads: number, source: WasmSource | undefined, coordinator: Coordinator,
): Promise<Attempt<{ core: ThreadedCore; pool: ThreadPool }>> {
  const problem = environmentProblem();
  if (problem !== null) return { ok: false, reason: problem };
  const module = await compileThreadedCore(source);
  if (!module.ok) return module;
  const core = await instantiateThreadedCore(module.value);
  if (!core.ok) return core;
  const pool = await ThreadPool.start(core.value, threads, coordinator);
  if (!pool.ok) return pool;
  return { ok: true, value: { core: core.value, pool: pool.value } };
}

/** The build the loaded core is (read from it, not assumed), and why not the one asked for. */
function simdReport(kernels: ExecutorKernels, requested: SimdMode | undefined, relaxedProblem: string | null): SimdReport {
  // A core from before the relaxed build existed has no such global, and is deterministic.
  const flag = (kernels as Partial<ExecutorKernels>).RELAXED_SIMD;
  const mode: SimdMode = flag !== undefined && Number(flag.value) === 1 ? 'relaxed' : 'deterministic';
  if (requested !== 'relaxed' || mode === 'relaxed') return { mode };
  return { mode, reason: relaxedProblem ?? 'the WebAssembly core given in the options is the deterministic build' };
}

export class WasmEngine implements Engine {
  private readonly prepared = new Map<Program, Prepared>();
  private kernels: ExecutorKernels | null;

  private constructor(
    kernels: ExecutorKernels, private readonly weights: WeightLayout, private readonly pool: ThreadPool | null,
    readonly threading: ThreadingReport, readonly simd: SimdReport,
  ) {
    this.kernels = kernels;
  }

  /**
   * Packs the weights into a core instance. With `threads` above 1 that is the threaded core on
   * a shared memory, with its workers already started (they instantiate before any weight is
   * written); when threads cannot run here it is the single-threaded core, and `threading` says why.
   */
  static async load(file: WeightSource, recipe: readonly FoldedTensor[], bnEps: number, options: EngineOptions = {}): Promise<WasmEngine> {
    const requested = options.threads ?? 1;
    let threaded: { core: ThreadedCore; pool: ThreadPool } | null = null;
    let threading: ThreadingReport = { threads: 1 };
    const relaxedProblem = options.simd === 'relaxed' ? relaxedSimdProblem() : null;
    const relaxed = options.simd === 'relaxed' && relaxedProblem === null;
    if (requested > 1) {
      const source = options.threadsWasm ?? (relaxed ? relaxedThreadsWasmUrl() : undefined);
      const attempt = await startThreads(requested, source, options.coordinator ?? defaultCoordinator());
      if (attempt.ok) threaded = attempt.value;
      else threading = { threads: 1, reason: attempt.reason };
    }
    const kernels = threaded?.core.kernels ??
      ((await loadKernels(options.wasm ?? (relaxed ? relaxedWasmUrl() : undefined))) as ExecutorKernels);
    try {
      const simd = simdReport(kernels, options.simd, relaxedProblem);
      const layout = layoutWeights(kernels, recipe, kernels.heap_base());
      packWeights(kernels, layout, file, bnEps);
      return new WasmEngine(kernels, layout, threaded?.pool ?? null, threaded ? { threads: threaded.pool.size } : threading, simd);
    } catch (error) {
      threaded?.pool.dispose();
      throw error;
    }
  }

  /** Bytes of WebAssembly memory in use: packed weights plus the largest arena planned so far. */
  get memoryBytes(): number {
    return this.kernels?.memory.buffer.byteLength ?? 0;
  }

  /** Plans memory for a program on first use; the result is kept, so later runs allocate nothing. */
  prepare(program: Program): void {
    if (this.prepared.has(program)) return;
    const kernels = this.kernels!;
    const threads = this.threading.threads;
    const phases = schedulePhases(program, threads);
    const arena = planScheduledMemory(program, phases);
    const what = `a batch of ${program.n} at ${program.height}x${program.width}`;
    assertFitsWasm32(this.weights.end + arena.bytes + 65536, what);
    const steps = prepareProgram(kernels, program, arena, this.weights, this.weights.end);
    const scheduled = planPhases(program, phases, steps.offsets, this.weights, (name) => activationCode(kernels, name), steps.plan, steps.end, threads);
    const prepared: Prepared = { ...steps, end: scheduled.end, id: 2 * this.prepared.size, phases: bindPhases(kernels, scheduled.plan) };
    // Grown here, between runs: no worker is running a kernel while the memory changes size.
    const before = kernels.memory.buffer.byteLength;
    ensureMemory(kernels.memory, prepared.end, what);
    // The new pages are zero but not yet mapped: touching them now keeps the first run from
    // paying a page fault per 4 KiB of arena.
    new Uint8Array(kernels.memory.buffer, before).fill(0);
    this.pool?.addProgram(prepared.id, stepPhases(prepared.plan));
    this.pool?.addProgram(prepared.id + 1, scheduled.plan);
    this.prepared.set(program, prepared);
  }

  /** One forward pass: synchronous when this thread runs or coordinates it, a promise when a worker coordinates. */
  run(program: Program, input: Float32Array, options: RunOptions): ProgramOutputs | Promise<ProgramOutputs> {
    this.prepare(program);
    const prepared = this.prepared.get(program)!;
    this.view(prepared, program.input, input.length).set(input);
    const hooked = options.onStep !== undefined || options.onCheckpoint !== undefined;
    const steps = program.steps.length;
    const pool = this.pool;
    if (pool === null || pool.coordinator === 'host') {
      // Hooks look at memory between steps, so with hooks each step is run (and timed) alone.
      const runSteps = pool === null
        ? (from: number, to: number) => {
          for (let step = from; step < to; step++) for (const unit of prepared.units[step]) unit();
        }
        : (from: number, to: number) => pool.runHere(prepared.id, from, to, prepared.units);
      if (!hooked) {
        // Without hooks the run follows its schedule: phases, with no barrier inside one.
        if (pool === null) for (const phase of prepared.phases) for (const unit of phase) unit();
        else pool.runHere(prepared.id + 1, 0, prepared.phases.length, prepared.phases);
      } else {
        for (let index = 0; index < steps; index++) {
          const start = performance.now();
          runSteps(index, index + 1);
          this.report(prepared, index, options, performance.now() - start);
        }
      }
      return this.outputs(prepared);
    }
    if (!hooked) return pool.runInWorkers(prepared.id + 1, 0, prepared.phases.length).then(() => this.outputs(prepared));
    return (async () => {
      for (let index = 0; index < steps; index++) {
        const start = performance.now();
        await pool.runInWorkers(prepared.id, index, index + 1);
        this.report(prepared, index, options, performance.now() - start);
      }
      return this.outputs(prepared);
    })();
  }

  dispose(): void {
    this.pool?.dispose();
    this.kernels = null;
    this.prepared.clear();
  }

  // Views are made after the last possible memory.grow and never kept: growth detaches them.
  private view(prepared: Prepared, id: string, length: number): Float32Array {
    return new Float32Array(this.kernels!.memory.buffer, prepared.offsets.get(id)!, length);
  }

  private copy(prepared: Prepared, id: string): Float32Array {
    return this.view(prepared, id, elementCount(prepared.program.buffers.get(id)!.shape)).slice();
  }

  /** Tells the hooks that step `index` took `milliseconds`, and hands over the checkpoints it completed. */
  private report(prepared: Prepared, index: number, options: RunOptions, milliseconds: number): void {
    const program = prepared.program;
    if (options.onStep) {
      const step = program.steps[index];
      const written = step.writes[0];
      options.onStep({ step, milliseconds, shape: program.buffers.get(written)!.shape, output: () => this.copy(prepared, written) });
    }
    for (const c of program.checkpoints) {
      if (c.afterStep === index && options.onCheckpoint) options.onCheckpoint(c, this.copy(prepared, c.buffer), program.buffers.get(c.buffer)!.shape);
    }
  }

  private outputs(prepared: Prepared): ProgramOutputs {
    const program = prepared.program;
    return {
      logits: this.copy(prepared, program.logits),
      features: this.copy(prepared, program.features),
      probabilities: program.probabilities === null ? null : this.copy(prepared, program.probabilities),
      featureMaps: program.featureMaps.map((m) => this.copy(prepared, m.buffer)),
    };
  }
}
