/**
 * The calls of a scheduled run (`src/runtime/threads/phase-plan.ts`), checked as plain data: every
 * call of the step plan appears in the phases once per image it covers, per-image units only touch
 * their own image, and two images' SE gates never share their scratch vector (two threads may run
 * them at once). The bits themselves are checked end to end in `batch-schedule.test.ts`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { buildProgram, type Program } from '../../src/plan/program.js';
import { planScheduledMemory, schedulePhases } from '../../src/plan/schedule.js';
import { activationCode, loadKernels } from '../../src/runtime/kernels.js';
import { layoutWeights } from '../../src/runtime/packed-weights.js';
import { planPhases, type PhasePlan } from '../../src/runtime/threads/phase-plan.js';
import { prepareProgram, type ExecutorKernels, type KernelCall, type PreparedProgram } from '../../src/runtime/wasm-executor.js';
import { foldingRecipe } from '../../src/weights/recipe.js';

const network = buildNetwork('b0');
let kernels: ExecutorKernels;
beforeAll(async () => {
  kernels = (await loadKernels()) as ExecutorKernels;
});

function plan(program: Program, threads: number): { prepared: PreparedProgram; phases: PhasePlan; scratch: number; end: number } {
  const weights = layoutWeights(kernels, foldingRecipe(network), kernels.heap_base());
  const arena = planScheduledMemory(program, schedulePhases(program, threads));
  const prepared = prepareProgram(kernels, program, arena, weights, weights.end);
  const scheduled = planPhases(program, schedulePhases(program, threads), prepared.offsets, weights,
    (name) => activationCode(kernels, name), prepared.plan, prepared.end, threads);
  return { prepared, phases: scheduled.plan, scratch: prepared.end, end: scheduled.end };
}

const key = (call: KernelCall): string => `${call.kernel}(${call.args.join(',')})`;

describe('planPhases on B0 at 224, batch 8', () => {
  it('gives each image of a per-image phase its own SE scratch, past everything the step plan uses', () => {
    const program = buildProgram(network, 'same', [8, 3, 224, 224]);
    const { phases, scratch, end } = plan(program, 2);
    let gates = 0;
    for (const units of phases) {
      const hidden = units.map((calls) => calls.filter((c) => c.kernel === 'squeeze_excite_gate').map((c) => c.args[9]));
      const perUnit = hidden.map((h) => new Set(h));
      perUnit.forEach((set, unit) => {
        for (const address of set) {
          expect(address).toBeGreaterThanOrEqual(scratch);
          expect(address).toBeLessThan(end);
          for (let other = 0; other < unit; other++) expect(perUnit[other].has(address), `units ${other} and ${unit}`).toBe(false);
          gates++;
        }
      });
    }
    expect(gates).toBeGreaterThanOrEqual(8 * 16); // 16 SE blocks, each image's gate in its own unit
  });

  it('keeps the batch-wide steps\' own calls, and splits a one-unit step into one sub-batch per thread', () => {
    const program = buildProgram(network, 'same', [8, 3, 224, 224]);
    const { prepared, phases } = plan(program, 2);
    const schedule = schedulePhases(program, 2);
    schedule.forEach((phase, index) => {
      if (phase.kind !== 'batch') return;
      const own = prepared.plan[phase.step];
      if (own.length >= 2) expect(phases[index].map((calls) => calls.map(key))).toEqual(own.map((call) => [key(call)]));
      else expect(phases[index].length, program.steps[phase.step].module).toBe(2);
    });
  });

  it('makes, image by image, the calls a batch of one makes (at that image\'s addresses)', () => {
    // The two programs' arenas differ, so addresses cannot be compared here: the sequence of
    // kernels (and so the work units) must match, image by image; the bits are compared end to end.
    const program = buildProgram(network, 'same', [8, 3, 224, 224]);
    const single = buildProgram(network, 'same', [1, 3, 224, 224]);
    const { phases } = plan(program, 1);
    const { prepared: alone } = plan(single, 1);
    const schedule = schedulePhases(program, 1);
    const shape = (calls: readonly KernelCall[]) => calls.map((c) => c.kernel);
    schedule.forEach((phase, index) => {
      if (phase.kind !== 'per-image') return;
      const expected = alone.plan.slice(phase.from, phase.to).flat();
      for (const unit of phases[index]) expect(shape(unit)).toEqual(shape(expected));
    });
  });
});
