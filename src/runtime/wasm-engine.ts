/**
 * The SIMD core with a model's packed weights, and the prepared programs for each input shape
 * seen so far.
 */
import type { Program } from '../plan/program.js';
import { planProgramMemory } from '../plan/memory.js';
import { elementCount } from '../plan/program.js';
import type { FoldedTensor } from '../weights/recipe.js';
import type { SafetensorsFile } from '../weights/safetensors.js';
import { loadKernels, type CoreKernels } from './kernels.js';
import { assertFitsWasm32, ensureMemory } from './memory-limits.js';
import { layoutWeights, packWeights, type WeightLayout } from './packed-weights.js';
import type { Engine, ProgramOutputs, RunOptions } from './outputs.js';
import { prepareProgram, type PreparedProgram } from './wasm-executor.js';
import type { WasmSource } from './wasm.js';

export class WasmEngine implements Engine {
  private readonly prepared = new Map<Program, PreparedProgram>();
  private kernels: CoreKernels | null;

  private constructor(kernels: CoreKernels, private readonly weights: WeightLayout) {
    this.kernels = kernels;
  }

  static async load(file: SafetensorsFile, recipe: readonly FoldedTensor[], bnEps: number, wasm?: WasmSource): Promise<WasmEngine> {
    const kernels = await loadKernels(wasm);
    const layout = layoutWeights(kernels, recipe, kernels.heap_base());
    packWeights(kernels, layout, file, bnEps);
    return new WasmEngine(kernels, layout);
  }

  /** Bytes of WebAssembly memory in use: packed weights plus the largest arena planned so far. */
  get memoryBytes(): number {
    return this.kernels?.memory.buffer.byteLength ?? 0;
  }

  /** Plans memory for a program on first use; the result is kept, so later runs allocate nothing. */
  prepare(program: Program): void {
    if (this.prepared.has(program)) return;
    const kernels = this.kernels!;
    const arena = planProgramMemory(program);
    const what = `a batch of ${program.n} at ${program.height}x${program.width}`;
    assertFitsWasm32(this.weights.end + arena.bytes + 65536, what);
    const prepared = prepareProgram(kernels, program, arena, this.weights, this.weights.end);
    ensureMemory(kernels.memory, prepared.end, what);
    this.prepared.set(program, prepared);
  }

  run(program: Program, input: Float32Array, options: RunOptions): ProgramOutputs {
    this.prepare(program);
    const kernels = this.kernels!;
    const prepared = this.prepared.get(program)!;
    // Views are made after the last possible memory.grow and never kept: growth detaches them.
    const copy = (id: string): Float32Array =>
      new Float32Array(kernels.memory.buffer, prepared.offsets.get(id)!, elementCount(program.buffers.get(id)!.shape)).slice();
    new Float32Array(kernels.memory.buffer, prepared.offsets.get(program.input)!, input.length).set(input);
    const checkpoints = options.onCheckpoint ? program.checkpoints : [];
    let next = 0;
    const onStep = options.onStep;
    prepared.calls.forEach((call, index) => {
      if (onStep) {
        const start = performance.now();
        call();
        const milliseconds = performance.now() - start;
        const step = program.steps[index];
        const written = step.writes[0];
        onStep({ step, milliseconds, shape: program.buffers.get(written)!.shape, output: () => copy(written) });
      } else {
        call();
      }
      while (next < checkpoints.length && checkpoints[next].afterStep === index) {
        const c = checkpoints[next++];
        options.onCheckpoint!(c, copy(c.buffer), program.buffers.get(c.buffer)!.shape);
      }
    });
    return {
      logits: copy(program.logits),
      features: copy(program.features),
      probabilities: program.probabilities === null ? null : copy(program.probabilities),
      featureMaps: program.featureMaps.map((m) => copy(m.buffer)),
    };
  }

  dispose(): void {
    this.kernels = null;
    this.prepared.clear();
  }
}
