/**
 * In what order a batch's steps run: which steps run over the whole batch at once, and which run
 * image by image. The call list (`program.ts`) says what each step computes; this says how a
 * batch walks it, and the memory plan that order needs.
 *
 * Why not every step over the whole batch: a batch-wide step finishes all images before the
 * next step starts, so on large maps eight images' expanded maps (1.8 MB each at 56x56 in B0)
 * are out of cache by the time the depthwise conv reads them, and every step ends in a barrier
 * for the threads. Why not every step image by image: a GEMM with few rows per image (B0's 7x7
 * maps, the classifier) streams all its weights for little work, and over the batch it streams
 * them once for all images. So: GEMMs with few rows per image run batch-wide; every run of other
 * steps between them runs image by image, one work unit per image covering all those steps, with
 * no barrier in between.
 *
 * Results do not depend on the order: an image-by-image unit makes exactly the calls of a
 * one-image program (`threads/phase-plan.ts`), and every kernel computes each output element with
 * the same operations whichever call covers it (`threads/work-units.ts`).
 */
import type { ArenaPlan, BufferRequest } from './arena.js';
import { planArena } from './arena.js';
import { bufferLifetimes } from './memory.js';
import type { Program, Step } from './program.js';

/**
 * A stretch of the program run as one: `batch`, one step over all images with the step's own work
 * units; `per-image`, steps `[from, to)` for one image after another, one work unit per image.
 */
export type Phase =
  | { readonly kind: 'batch'; readonly step: number }
  | { readonly kind: 'per-image'; readonly from: number; readonly to: number };

/**
 * Most output rows per image a GEMM may have to run batch-wide: B0's 7x7 maps (49 rows) and the
 * classifier (1 row) are below it, its 14x14 maps (196 rows) above. Measured on B0 batch 8
 * (`bench/batch-steps.bench.ts`, two runs on 2026-12-03): per image, the 7x7 GEMMs took 0.89-0.92
 * and the classifier 0.29-0.30 of their batch-1 time batch-wide, the 14x14 ones 1.00-1.04, and
 * larger maps 1.02-1.15: one image's rows already keep the GEMM kernel at its own rate there.
 */
export const BATCHED_ROWS_PER_IMAGE = 64;

/** Rows per image of a step that runs batch-wide, or null for steps that run image by image. */
function batchedRows(step: Step, n: number): number | null {
  if (step.kind !== 'pointwise') return null;
  const rows = step.rows / n;
  return rows <= BATCHED_ROWS_PER_IMAGE ? rows : null;
}

/**
 * Whether image-by-image phases pay on `threads` threads: they need at least two images, and
 * their units (one per image) must share out evenly enough. With `n` a multiple of the thread
 * count every thread gets as many images; otherwise at least four per thread keep the last,
 * uneven round within a fifth of the phase. Otherwise every step runs batch-wide.
 */
export function runsPerImage(n: number, threads: number): boolean {
  return n >= 2 && (n % threads === 0 || n >= 4 * threads);
}

/**
 * The phases of `program` on `threads` threads, covering every step once and in order. A
 * per-image phase also ends at each checkpoint (the end of the stem, of each block, of the head),
 * which bounds the memory its buffers hold (`scheduledLifetimes`) to about one block's.
 */
export function schedulePhases(program: Program, threads: number): Phase[] {
  const steps = program.steps;
  if (!runsPerImage(program.n, threads)) return steps.map((_, step) => ({ kind: 'batch', step }));
  const checkpointEnds = new Set(program.checkpoints.map((c) => c.afterStep + 1));
  const phases: Phase[] = [];
  let from: number | null = null; // start of the per-image phase being gathered
  const close = (to: number): void => {
    if (from !== null && to > from) phases.push({ kind: 'per-image', from, to });
    from = null;
  };
  steps.forEach((step, index) => {
    if (checkpointEnds.has(index)) close(index);
    if (batchedRows(step, program.n) !== null) {
      close(index);
      phases.push({ kind: 'batch', step: index });
    } else {
      from ??= index;
    }
  });
  close(steps.length);
  return phases;
}

/**
 * Buffer lifetimes for running `phases`: while a per-image phase runs, one image may be at its
 * first step and another at its last, so every buffer the phase touches is kept for the whole
 * phase. Lifetimes only grow, so the plan also serves a step-by-step run.
 */
export function scheduledLifetimes(program: Program, phases: readonly Phase[]): BufferRequest[] {
  const span = new Map<string, { first: number; last: number }>();
  for (const phase of phases) {
    if (phase.kind !== 'per-image') continue;
    for (let index = phase.from; index < phase.to; index++) {
      const step = program.steps[index];
      for (const id of [...step.reads, ...step.writes]) {
        const seen = span.get(id); // a buffer may be touched in several phases: cover them all
        span.set(id, { first: Math.min(seen?.first ?? phase.from, phase.from), last: Math.max(seen?.last ?? 0, phase.to - 1) });
      }
    }
  }
  return bufferLifetimes(program).map((request) => {
    const phase = span.get(request.id);
    if (phase === undefined) return request;
    return { ...request, firstStep: Math.min(request.firstStep, phase.first), lastStep: Math.max(request.lastStep, phase.last) };
  });
}

/** The arena for running `program` in `phases`. */
export function planScheduledMemory(program: Program, phases: readonly Phase[]): ArenaPlan {
  return planArena(scheduledLifetimes(program, phases));
}
