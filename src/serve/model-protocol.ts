/**
 * Messages between the server's main thread and the thread that holds the model. The model runs
 * in its own worker thread because a run blocks the thread that coordinates it (Atomics.wait);
 * in a worker, the main thread keeps reading uploads, answering probes and timing out stalled
 * clients while a batch computes.
 */
import type { CheckpointPreset } from '../arch/presets.js';
import type { PreprocessRecipe } from '../image/recipe.js';
import type { SimdMode } from '../runtime/simd.js';
import type { SimdReport, ThreadingReport } from '../efficientnet.js';
import type { ModelRequest } from '../cli/load-model.js';

export interface ModelWorkerOptions {
  /** The network and weights, as every command takes them (`--model` or `--variant`, `--weights` or `--random-weights`). */
  readonly request: ModelRequest;
  readonly threads: number | 'auto';
  readonly simd: SimdMode;
  /** The class names (`--labels`), one per class of the weights; default: the library's. */
  readonly labels?: readonly string[];
}

/** What the server says about its model at GET /v1/model and needs for preprocessing. */
export interface ModelInfo {
  readonly model: string;
  readonly variant: string;
  readonly preset: CheckpointPreset | null;
  readonly recipe: PreprocessRecipe;
  readonly numClasses: number;
  /** The label of each class, as the model reports them (`net.labels`). */
  readonly labels: readonly string[];
  readonly featureChannels: number;
  readonly synthetic: boolean;
  /** Hex SHA-256 of the weights bytes the model was built from (the synthetic bytes, if synthetic). */
  readonly weightsSha256: string;
  readonly threading: ThreadingReport;
  readonly simd: SimdReport;
}

/** A typed error's identity, carried across the thread boundary. */
export interface ErrorDescription {
  readonly type: string;
  readonly code: string;
  readonly message: string;
}

export type ToModel =
  /** The batch buffer, `[maxBatch, 3, size, size]` float32, shared once: every run reads its first `count` images there. */
  | { readonly kind: 'input'; readonly buffer: SharedArrayBuffer }
  | { readonly kind: 'run'; readonly id: number; readonly count: number }
  | { readonly kind: 'close' };

export type FromModel =
  | { readonly kind: 'ready'; readonly info: ModelInfo }
  | { readonly kind: 'failed'; readonly error: ErrorDescription }
  | {
    readonly kind: 'result'; readonly id: number;
    readonly probabilities: Float32Array; // [count, numClasses]
    readonly features: Float32Array; // [count, featureChannels]
  }
  | { readonly kind: 'run-failed'; readonly id: number; readonly error: ErrorDescription };

export function describeError(error: unknown): ErrorDescription {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { type: error.name, code: typeof code === 'string' ? code : 'INTERNAL', message: error.message };
  }
  return { type: 'Error', code: 'INTERNAL', message: String(error) };
}
