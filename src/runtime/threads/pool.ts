/**
 * A pool of worker threads sharing one WebAssembly memory: the host side.
 *
 * Someone must coordinate each run (walk its steps, publish them, wait for each to finish), and
 * that thread blocks in Atomics.wait. Where it runs is the pool's `coordinator`:
 * - `host`: the thread that owns the model coordinates and computes as one of the threads;
 *   the pool has threads - 1 helper workers. This saves a message round trip per run (about a
 *   millisecond on B0, measured in Node) and one thread, where the host may block.
 * - `worker`: worker 0 coordinates and the host only posts the run and awaits its end, so it
 *   never blocks. A browser's main thread may not block, so it must work this way.
 */
import { EfficientNetError } from '../../errors.js';
import type { Attempt, ThreadedCore } from './core.js';
import { spawnWorker, type WorkerHandle } from './endpoint.js';
import type { PhasePlan } from './phase-plan.js';
import { errorMessage, type WorkerReply } from './protocol.js';
import { coordinateRun, WorkQueue, type Units } from './work-queue.js';

/** How long workers may take to start and instantiate the core before the pool gives up on them. */
const START_TIMEOUT_MS = 30_000;

export type Coordinator = 'host' | 'worker';

/**
 * Where runs are best coordinated from this thread: here if it may block in Atomics.wait (Node's
 * main thread, any worker), else in a worker (a browser's main thread). Asked of the engine
 * itself: a zero-timeout wait on a value that does not match returns at once where blocking is
 * allowed, and throws where it is not.
 */
export function defaultCoordinator(): Coordinator {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return 'host';
  } catch {
    return 'worker';
  }
}

interface PendingRun {
  readonly run: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class ThreadPool {
  private runs = 0;
  private pending: PendingRun | null = null;
  /** Why the pool can no longer run (a worker died, or it was disposed), once it cannot. */
  private broken: string | null = null;
  /** The last failure a worker reported, to explain a run that ended incomplete. */
  private workerFailure: string | null = null;

  private constructor(
    private readonly workers: readonly WorkerHandle[], private readonly queue: WorkQueue, readonly coordinator: Coordinator,
  ) {}

  /** Threads taking part in each run, the coordinator included. */
  get size(): number {
    return this.coordinator === 'host' ? this.workers.length + 1 : this.workers.length;
  }

  /**
   * Starts the workers for `threads` threads on `core`'s module and memory and waits until each
   * has its instance, so no instantiation (which rewrites the module's data segments) can
   * overlap a run.
   */
  static async start(core: ThreadedCore, threads: number, coordinator: Coordinator): Promise<Attempt<ThreadPool>> {
    const control = WorkQueue.createControl();
    const workers: WorkerHandle[] = [];
    let pool: ThreadPool | null = null;
    const started: Promise<void>[] = [];
    try {
      const count = coordinator === 'host' ? threads - 1 : threads;
      for (let index = 0; index < count; index++) {
        const worker = await spawnWorker();
        workers.push(worker);
        started.push(new Promise<void>((resolve, reject) => {
          worker.listen((reply) => {
            if (pool !== null) pool.receive(index, reply);
            else if (reply.type === 'alive') worker.post({ type: 'init', module: core.module, memory: core.memory, control });
            else if (reply.type === 'ready') resolve();
            else if (reply.type === 'failed') reject(new Error(reply.message));
          }, (death) => (pool !== null ? pool.lose(death) : reject(death)));
        }));
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the workers did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      });
      try {
        await Promise.race([Promise.all(started), timeout]);
      } finally {
        clearTimeout(timer);
      }
    } catch (error) {
      for (const worker of workers) worker.terminate();
      return { ok: false, reason: `worker threads could not be started: ${errorMessage(error)}` };
    }
    pool = new ThreadPool(workers, new WorkQueue(control), coordinator);
    // Idle workers must not keep Node running: a program that forgets dispose() still exits.
    for (const worker of workers) worker.keepAlive(false);
    return { ok: true, value: pool };
  }

  /** Hands every worker a prepared program's phases and work units, to bind to its own instance. */
  addProgram(id: number, plan: PhasePlan): void {
    for (const worker of this.workers) worker.post({ type: 'program', id, plan });
  }

  /**
   * Host coordinator: runs phases `[from, to)` of program `id` on this thread and the helpers,
   * with `units` this thread's own bound units of that program. The caller has written the
   * input to the shared memory; on return the outputs are there.
   */
  runHere(id: number, from: number, to: number, units: readonly Units[]): void {
    this.assertUsable();
    const run = ++this.runs;
    this.queue.request(run);
    for (const helper of this.workers) helper.post({ type: 'join', run });
    const failure = coordinateRun(this.queue, run, id, from, to, (_, step) => units[step]);
    if (failure !== null) throw new EfficientNetError(`a kernel call failed on a worker thread: ${failure}`);
  }

  /** Worker coordinator: like `runHere`, but worker 0 coordinates while this thread awaits the end. */
  runInWorkers(id: number, from: number, to: number): Promise<void> {
    try {
      this.assertUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    const run = ++this.runs;
    this.workerFailure = null;
    this.queue.request(run);
    const [coordinator, ...helpers] = this.workers;
    for (const worker of this.workers) worker.keepAlive(true); // Node would otherwise exit mid-run
    for (const helper of helpers) helper.post({ type: 'join', run });
    coordinator.post({ type: 'run', run, program: id, from, to });
    return new Promise<void>((resolve, reject) => {
      this.pending = { run, resolve, reject };
    });
  }

  /** Stops every worker. Safe to call twice; runs still pending are rejected. */
  dispose(): void {
    if (this.broken === null) this.broken = 'this thread pool was disposed';
    for (const worker of this.workers) worker.terminate();
    this.settle(new EfficientNetError(this.broken));
  }

  private assertUsable(): void {
    if (this.broken !== null) throw new EfficientNetError(this.broken);
    if (this.pending !== null) throw new EfficientNetError('a thread pool runs one program at a time');
  }

  private receive(index: number, reply: WorkerReply): void {
    if (reply.type === 'failed') {
      this.workerFailure = reply.message;
      if (index === 0 && this.coordinator === 'worker') this.lose(new Error(reply.message));
    } else if (reply.type === 'done' && this.pending?.run === reply.run) {
      this.queue.finished(); // an atomic read: the coordinator's writes are visible from here on
      this.settle(reply.failure === null ? null : new EfficientNetError(`a kernel call failed on a worker thread: ${this.workerFailure ?? reply.failure}`));
    }
  }

  private lose(death: Error): void {
    if (this.broken === null) this.broken = `a worker thread stopped: ${death.message}`;
    this.settle(new EfficientNetError(this.broken));
  }

  private settle(error: EfficientNetError | null): void {
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    for (const worker of this.workers) worker.keepAlive(false);
    if (error === null) pending.resolve();
    else pending.reject(error);
  }
}
