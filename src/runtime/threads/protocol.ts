/**
 * The messages between the host (the thread that owns an EfficientNet) and its workers. Messages
 * carry setup and the start and end of a run; the steps inside a run are handed out through the
 * shared control block (`work-queue.ts`), which costs no message per step.
 *
 * Worker 0 is the coordinator: it walks a run's steps, publishes each step's work units and takes
 * part in them. The others are helpers: they claim units of whatever step is published until the
 * run ends. Between runs every worker sits in its event loop, so messages always get through.
 */
import type { PhasePlan } from './phase-plan.js';
import type { WasmMemory, WasmModule } from '../wasm-types.js';

/** Host -> worker. */
export type HostMessage =
  /** Instantiate `module` on the shared `memory`; `control` is the work queue's block. */
  | { readonly type: 'init'; readonly module: WasmModule; readonly memory: WasmMemory; readonly control: SharedArrayBuffer }
  /** A prepared program's phases and their work units, bound once and kept under `id`. */
  | { readonly type: 'program'; readonly id: number; readonly plan: PhasePlan }
  /** Helpers: take part in run `run` until it ends. */
  | { readonly type: 'join'; readonly run: number }
  /** Coordinator: run phases `[from, to)` of program `program` as run `run`, then reply `done`. */
  | { readonly type: 'run'; readonly run: number; readonly program: number; readonly from: number; readonly to: number };

/** Worker -> host. */
export type WorkerReply =
  /** The worker's message listener is attached: it can be sent `init`. */
  | { readonly type: 'alive' }
  /** `init` succeeded: the instance exists (so its data segments are written) and it waits for work. */
  | { readonly type: 'ready' }
  /** Run `run` is over; `failure` says why it is incomplete, when a unit threw on some thread. */
  | { readonly type: 'done'; readonly run: number; readonly failure: string | null }
  /** Something failed outside a run (instantiation, an unknown program). */
  | { readonly type: 'failed'; readonly message: string };

/** An error's message, for the text of a reply. */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
