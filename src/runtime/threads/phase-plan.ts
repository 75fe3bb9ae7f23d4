/**
 * The kernel calls of a scheduled run (`plan/schedule.ts`): per phase, its work units, each a
 * list of calls run in order by one thread. A batch-wide phase's units are its step's own (one
 * call each); a per-image phase has one unit per image, holding every call that image's steps
 * make. A barrier separates phases only, not the steps inside a per-image phase.
 *
 * Per-image calls are those of the same program on a batch of one: each buffer is `[n, ...]`, so
 * image `b`'s part starts `b` image-sizes in, and planning the one-image steps at those addresses
 * gives exactly the calls (work units included) that a batch-1 run makes for that image. So an
 * image's result cannot depend on what shares its batch, nor on which thread runs it.
 */
import { elementCount, type Activation, type Program, type Step } from '../../plan/program.js';
import type { Phase } from '../../plan/schedule.js';
import type { WeightLayout } from '../packed-weights.js';
import { planCalls, type CallPlan, type ExecutorKernels, type KernelCall } from '../wasm-executor.js';

const FLOAT_BYTES = 4;
/** Bytes of one image's SE bottleneck scratch, rounded to the core's 16-byte alignment. */
const scratchBytes = (squeezed: number): number => Math.ceil((squeezed * FLOAT_BYTES) / 16) * 16;

/** Per phase, per work unit, the calls that unit makes in order. Plain data: it is posted to workers. */
export type PhasePlan = readonly (readonly (readonly KernelCall[])[])[];

export interface ScheduledCalls {
  readonly plan: PhasePlan;
  /** First byte after the per-image SE scratch this plan uses. */
  readonly end: number;
}

/** A step plan as phases of one step each, every unit one call: how hooked runs go, step by step. */
export const stepPhases = (plan: CallPlan): PhasePlan => plan.map((units) => units.map((call) => [call]));

/**
 * A step as it reads for `count` images instead of `n`: steps carry the batch size, or a row
 * count proportional to it (the GEMMs' pixels, softmax's rows), or both; each is scaled.
 */
function forImages(step: Step, n: number, count: number): Step {
  let scaled: Step = step;
  if ('n' in step) scaled = { ...scaled, n: count } as Step;
  if ('rows' in step && step.rows % n === 0) scaled = { ...scaled, rows: (step.rows / n) * count } as Step;
  if (scaled === step && count !== n) {
    throw new Error(`step ${step.module} (${step.kind}) has neither a batch size nor rows per image to schedule by`);
  }
  return scaled;
}

/**
 * Calls of steps `[from, to)` for images `[first, first + count)` only, as units in step order.
 * `hidden` is the SE bottleneck scratch these calls may use (one image at a time, in order).
 */
function subBatchCalls(
  program: Program, offsets: ReadonlyMap<string, number>, weights: WeightLayout, hidden: number,
  activation: (name: Activation) => number, from: number, to: number, first: number, count: number,
): KernelCall[] {
  const shifted = new Map<string, number>();
  for (const [id, offset] of offsets) {
    const buffer = program.buffers.get(id);
    if (buffer === undefined) continue;
    shifted.set(id, offset + first * (elementCount(buffer.shape) / program.n) * FLOAT_BYTES);
  }
  const steps = program.steps.slice(from, to).map((step) => forImages(step, program.n, count));
  return planCalls({ ...program, n: count, steps }, shifted, weights, hidden, activation).flat();
}

/**
 * Plans `phases` over the addresses of a prepared program. `stepPlan` is that program's own step
 * plan (batch-wide phases use its units); `scratch` is where per-image SE scratch may start,
 * past everything the prepared program uses.
 *
 * A batch-wide step with fewer units than `threads` (the classifier, whose 8 rows make one GEMM
 * unit) is cut into sub-batches of images instead, one unit each, so no thread waits on it alone.
 */
export function planPhases(
  program: Program, phases: readonly Phase[], offsets: ReadonlyMap<string, number>, weights: WeightLayout,
  activation: (name: Activation) => number, stepPlan: CallPlan, scratch: number, threads: number,
): ScheduledCalls {
  const squeezed = Math.max(1, ...program.steps.map((s) => (s.kind === 'se-gate' ? s.squeezed : 0)));
  const perImageScratch = scratchBytes(squeezed);
  const plan = phases.map((phase): KernelCall[][] => {
    if (phase.kind === 'per-image') {
      // Each image its own scratch: two threads may run two images' SE gates at once.
      return Array.from({ length: program.n }, (_, image) => subBatchCalls(
        program, offsets, weights, scratch + image * perImageScratch, activation, phase.from, phase.to, image, 1));
    }
    const units = stepPlan[phase.step];
    const parts = Math.min(threads, program.n);
    if (units.length >= threads || parts < 2) return units.map((call) => [call]);
    return Array.from({ length: parts }, (_, part) => {
      const first = Math.floor((part * program.n) / parts);
      const count = Math.floor(((part + 1) * program.n) / parts) - first;
      return subBatchCalls(program, offsets, weights, scratch + part * perImageScratch, activation, phase.step, phase.step + 1, first, count);
    });
  });
  return { plan, end: scratch + program.n * perImageScratch };
}

/** Binds a phase plan to an instance of the core: per phase, one zero-argument call per unit. */
export function bindPhases(kernels: ExecutorKernels, plan: PhasePlan): (() => void)[][] {
  return plan.map((units) => units.map((calls) => {
    const bound = calls.map(({ kernel, args }) => {
      const fn = kernels[kernel] as (...values: number[]) => void;
      return () => fn(...args);
    });
    if (bound.length === 1) return bound[0];
    return () => {
      for (const call of bound) call();
    };
  }));
}
