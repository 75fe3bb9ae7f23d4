/**
 * What a backend hands back from one run of a program.
 */
import type { Checkpoint, Program, Step } from '../plan/program.js';

export interface ProgramOutputs {
  /** `[n, classes]` */
  readonly logits: Float32Array;
  /** `[n, headChannels]` */
  readonly features: Float32Array;
  /** `[n, classes]`, when the program computes it. */
  readonly probabilities: Float32Array | null;
  /** One NCHW `[n, c, h, w]` array per `program.featureMaps` entry. */
  readonly featureMaps: readonly Float32Array[];
}

export interface RunOptions {
  /**
   * Called after each checkpoint (stem, each block, head, pool, classifier) with a copy of its
   * output: NHWC `[n, h, w, c]` for feature maps, `[n, c]` for vectors.
   */
  readonly onCheckpoint?: (checkpoint: Checkpoint, data: Float32Array, shape: readonly number[]) => void;
  /**
   * Called after each kernel call with its wall-clock time; timing is only taken when this is given.
   * `output()` copies the buffer the call wrote (its first output), in the buffer's layout.
   */
  readonly onStep?: (event: StepEvent) => void;
}

export interface StepEvent {
  readonly step: Step;
  readonly milliseconds: number;
  /**
   * Shape of the written buffer: NHWC `[n, h, w, c]`, `[n, c]`, NCHW for layout copies, or
   * `[n, panels, k, 16]` for the per-image SE-gated projection weights (BufferShape explains it).
   */
  readonly shape: readonly number[];
  readonly output: () => Float32Array;
}

/** The common face of the two backends. */
export interface Engine {
  prepare(program: Program): void;
  /** The worker pool answers asynchronously; one thread and the reference answer at once. */
  run(program: Program, input: Float32Array, options: RunOptions): ProgramOutputs | Promise<ProgramOutputs>;
  dispose(): void;
}
