/**
 * The batch schedule (`src/plan/schedule.ts`): its phases cover the program in order, batch-wide
 * phases are the GEMMs with few rows per image, per-image phases stay within a block, and the
 * arena planned for them keeps apart every pair of buffers that two images may use at once.
 */
import { describe, expect, it } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { planProgramMemory } from '../../src/plan/memory.js';
import { buildProgram, elementCount, type Program } from '../../src/plan/program.js';
import {
  BATCHED_ROWS_PER_IMAGE, planScheduledMemory, runsPerImage, schedulePhases, type Phase,
} from '../../src/plan/schedule.js';

const b0 = buildNetwork('b0');
const program = (n: number, side = 224, variant: Parameters<typeof buildNetwork>[0] = 'b0'): Program =>
  buildProgram(variant === 'b0' ? b0 : buildNetwork(variant), 'same', [n, 3, side, side], { probabilities: true, featureMaps: true });

/** Step indices of the phases, in order. */
const coveredSteps = (phases: readonly Phase[]): number[] =>
  phases.flatMap((p) => (p.kind === 'batch' ? [p.step] : Array.from({ length: p.to - p.from }, (_, i) => p.from + i)));

describe('schedulePhases', () => {
  it.each([[8, 1], [8, 2], [4, 4], [9, 2], [2, 1]])('covers every step once, in order (batch %i, %i threads)', (n, threads) => {
    const p = program(n);
    const phases = schedulePhases(p, threads);
    expect(coveredSteps(phases)).toEqual(p.steps.map((_, i) => i));
    expect(phases.some((phase) => phase.kind === 'per-image')).toBe(true);
  });

  it('runs batch-wide exactly the GEMMs with few rows per image, and image by image everything else', () => {
    for (const [variant, side] of [['b0', 224], ['b3', 300], ['v2_s', 128]] as const) {
      const p = program(8, side, variant);
      const batched = new Set(schedulePhases(p, 2).flatMap((phase) => (phase.kind === 'batch' ? [phase.step] : [])));
      p.steps.forEach((step, index) => {
        const few = step.kind === 'pointwise' && step.rows / p.n <= BATCHED_ROWS_PER_IMAGE;
        expect(batched.has(index), `${variant} step ${index} ${step.module}`).toBe(few);
      });
      // The classifier is one of them, and on B0 at 224 so is every 7x7 GEMM and none of the 14x14 ones.
      expect(batched.has(p.steps.findIndex((s) => s.module === 'classifier'))).toBe(true);
    }
  });

  it('ends a per-image phase at every checkpoint, so it holds about one block\'s buffers', () => {
    const p = program(8);
    const ends = new Set(p.checkpoints.map((c) => c.afterStep + 1));
    for (const phase of schedulePhases(p, 1)) {
      if (phase.kind !== 'per-image') continue;
      for (let index = phase.from + 1; index < phase.to; index++) expect(ends.has(index), `phase [${phase.from}, ${phase.to})`).toBe(false);
    }
  });

  it('runs batch-wide when images are too few to share out evenly', () => {
    expect([runsPerImage(1, 1), runsPerImage(3, 2), runsPerImage(6, 4), runsPerImage(2, 4)]).toEqual([false, false, false, false]);
    expect([runsPerImage(2, 1), runsPerImage(8, 2), runsPerImage(9, 2), runsPerImage(16, 3)]).toEqual([true, true, true, true]);
    const p = program(3);
    expect(schedulePhases(p, 2).every((phase) => phase.kind === 'batch')).toBe(true);
  });
});

describe('planScheduledMemory', () => {
  it('keeps apart every buffer a per-image phase touches, from each other and from all buffers live meanwhile', () => {
    const p = program(8);
    const phases = schedulePhases(p, 2);
    const arena = planScheduledMemory(p, phases);
    const range = (id: string): [number, number] => {
      const start = arena.offsets.get(id)!;
      return [start, start + elementCount(p.buffers.get(id)!.shape) * 4];
    };
    // Buffers live at step s in the step-by-step order (written at or before s, read at or after it).
    const steps = p.steps;
    const liveAt = (s: number): string[] => [...p.buffers.keys()].filter((id) => {
      const touches = steps.flatMap((step, i) => ([...step.reads, ...step.writes].includes(id) ? [i] : []));
      const last = [p.features, p.logits, p.probabilities, ...p.featureMaps.map((m) => m.buffer)].includes(id) ? steps.length : Math.max(...touches);
      const first = id === p.input ? 0 : Math.min(...touches);
      return first <= s && s <= last;
    });
    let checked = 0;
    for (const phase of phases) {
      if (phase.kind !== 'per-image') continue;
      const touched = new Set(steps.slice(phase.from, phase.to).flatMap((s) => [...s.reads, ...s.writes]));
      const meanwhile = new Set<string>(touched);
      for (let s = phase.from; s < phase.to; s++) for (const id of liveAt(s)) meanwhile.add(id);
      for (const a of touched) {
        for (const b of meanwhile) {
          if (a === b) continue;
          const [a0, a1] = range(a);
          const [b0start, b1] = range(b);
          expect(a1 <= b0start || b1 <= a0, `${a} and ${b} overlap in phase [${phase.from}, ${phase.to})`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    // What that costs: the scheduled arena against the step-by-step one, within a fifth (B0, batch 8).
    expect(arena.bytes / planProgramMemory(p).bytes).toBeLessThan(1.2);
  });
});
