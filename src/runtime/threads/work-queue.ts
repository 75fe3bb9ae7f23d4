/**
 * The work queue in shared memory that hands a step's work units to threads, with no message per
 * step. One thread (the coordinator) publishes a step, works on it and waits until every unit is
 * done; the others (helpers) claim units of whatever step is published. Who computes which unit
 * only changes timing: the units themselves are fixed by the program, so the results are too.
 * A "step" here is whatever the caller's plan lists: a program step, or a phase of a scheduled
 * run (`phase-plan.ts`), whose units may each be a chain of calls.
 *
 * Tickets. Every unit ever published gets a ticket from one 64-bit counter that only grows: a
 * step with `count` units owns tickets `[base, base + count)`, and `base` is where the previous
 * step's tickets ended. A thread claims ticket `t` by compare-and-swap from `t` to `t + 1`, and
 * only while `t` is below the end of the step it read. Because the counter never goes back, a
 * helper that read an old step and wakes late finds the counter past that step's end and claims
 * nothing: it can never run a unit of the new step as if it belonged to the old one. (64 bits:
 * at a billion units per second the counter would last centuries.)
 *
 * Publishing uses a sequence lock: the sequence number is odd while the step's description is
 * being written and even once it is complete, so a reader that saw the same even number before
 * and after reading the description has a consistent one.
 */

import { errorMessage } from './protocol.js';

/** BigInt64 slots. */
const NEXT_TICKET = 0;
const STEP_BASE = 1;
const STEP_END = 2;
const COMPLETED = 3;
const TICKET_SLOTS = 4;

/** Int32 slots, after the BigInt64 ones. */
const SEQUENCE = 0;
const RUN = 1;
const PROGRAM = 2;
const STEP = 3;
/** Set when a unit threw on some thread; the coordinator ends the run early. */
const FAILED = 4;
/** The host's last requested run and the coordinator's last finished run: see `WorkQueue.request`. */
const REQUESTED_RUN = 5;
const FINISHED_RUN = 6;
const WORD_SLOTS = 7;

/** Step index that marks the end of a run. */
const END_OF_RUN = -1;

/**
 * Polls (about 0.1 ms of them) before sleeping in Atomics.wait. Within a run the next step comes
 * within tens of microseconds (only one-unit steps such as an SE gate run in between), and
 * waking a sleeping thread costs about as much again, so helpers that poll a little catch the
 * next step awake (measured on B0 in three paired runs: 2 threads that slept at once were 10-15%
 * slower).
 */
const SPINS = 20_000;

/** A step as a reader saw it. */
interface Published {
  readonly sequence: number;
  readonly run: number;
  readonly program: number;
  readonly step: number;
  readonly base: bigint;
  readonly end: bigint;
}

/** A step's units, bound to the calling thread's instance of the core. */
export type Units = readonly (() => void)[];

export class WorkQueue {
  private readonly tickets: BigInt64Array; // [TICKET_SLOTS]
  private readonly words: Int32Array; // [WORD_SLOTS]
  /** The first error a unit threw on this thread, kept for the report; see `takeError`. */
  private firstError: unknown = null;

  constructor(control: SharedArrayBuffer) {
    this.tickets = new BigInt64Array(control, 0, TICKET_SLOTS);
    this.words = new Int32Array(control, TICKET_SLOTS * 8, WORD_SLOTS);
  }

  /** A zeroed control block for a new queue. */
  static createControl(): SharedArrayBuffer {
    return new SharedArrayBuffer(TICKET_SLOTS * 8 + WORD_SLOTS * 4);
  }

  /**
   * Host side, before posting run `run`: everything the host wrote to the shared memory before
   * this atomic store (the input) is visible to the coordinator after its atomic load of it.
   */
  request(run: number): void {
    Atomics.store(this.words, REQUESTED_RUN, run);
  }

  /** Host side, after the coordinator's reply: makes its writes (the outputs) visible here. */
  finished(): number {
    return Atomics.load(this.words, FINISHED_RUN);
  }

  /** Coordinator: starts run `run`; false if the host's request does not match (a protocol bug). */
  beginRun(run: number): boolean {
    Atomics.store(this.words, FAILED, 0);
    return Atomics.load(this.words, REQUESTED_RUN) === run;
  }

  /** Coordinator: runs one step's units with whichever helpers join in; returns once all are done. */
  runStep(run: number, program: number, step: number, units: Units): void {
    const { base, end } = this.publish(run, program, step, BigInt(units.length));
    this.work(base, end, units);
    for (let spins = 0; ; spins++) {
      const completed = Atomics.load(this.tickets, COMPLETED);
      if (completed >= end) return;
      if (spins >= SPINS) Atomics.wait(this.tickets, COMPLETED, completed);
    }
  }

  /** Coordinator: whether a unit threw during this run, on any thread. */
  get failed(): boolean {
    return Atomics.load(this.words, FAILED) !== 0;
  }

  /** The first error a unit threw on this thread since the last call, or null. */
  takeError(): unknown {
    const error = this.firstError;
    this.firstError = null;
    return error;
  }

  /** Coordinator: ends run `run`, sending its helpers back to their event loops. */
  endRun(run: number): void {
    this.publish(run, 0, END_OF_RUN, 0n);
    Atomics.store(this.words, FINISHED_RUN, run);
  }

  /**
   * Helper: claims and runs units of run `run` until the coordinator ends it. A helper that
   * arrives after the run ended returns at once. `unitsOf` gives the helper's own bound units.
   */
  help(run: number, unitsOf: (program: number, step: number) => Units): void {
    let seen: number | null = null;
    for (;;) {
      const published = this.next(seen);
      seen = published.sequence;
      if (published.run < run) continue; // the previous run's end: this one has not started yet
      if (published.run > run || published.step === END_OF_RUN) return;
      this.work(published.base, published.end, unitsOf(published.program, published.step));
    }
  }

  private publish(run: number, program: number, step: number, count: bigint): { base: bigint; end: bigint } {
    const sequence = Atomics.add(this.words, SEQUENCE, 1) + 1; // odd: being written
    const base = Atomics.load(this.tickets, NEXT_TICKET); // every earlier ticket is claimed and done
    const end = base + count;
    Atomics.store(this.tickets, STEP_BASE, base);
    Atomics.store(this.tickets, STEP_END, end);
    Atomics.store(this.words, RUN, run);
    Atomics.store(this.words, PROGRAM, program);
    Atomics.store(this.words, STEP, step);
    Atomics.store(this.words, SEQUENCE, sequence + 1); // even: complete
    Atomics.notify(this.words, SEQUENCE);
    return { base, end };
  }

  /** The first completely written step whose sequence number differs from `seen`, waiting for one if needed. */
  private next(seen: number | null): Published {
    for (let spins = 0; ; spins++) {
      const sequence = Atomics.load(this.words, SEQUENCE);
      if (sequence !== seen && (sequence & 1) === 0) {
        const published: Published = {
          sequence,
          run: Atomics.load(this.words, RUN),
          program: Atomics.load(this.words, PROGRAM),
          step: Atomics.load(this.words, STEP),
          base: Atomics.load(this.tickets, STEP_BASE),
          end: Atomics.load(this.tickets, STEP_END),
        };
        if (Atomics.load(this.words, SEQUENCE) === sequence) return published;
      } else if (spins >= SPINS) {
        Atomics.wait(this.words, SEQUENCE, sequence);
      }
    }
  }

  /** Claims tickets below `end` one at a time and runs their units. */
  private work(base: bigint, end: bigint, units: Units): void {
    for (;;) {
      const ticket = Atomics.load(this.tickets, NEXT_TICKET);
      if (ticket >= end) return;
      if (Atomics.compareExchange(this.tickets, NEXT_TICKET, ticket, ticket + 1n) !== ticket) continue;
      try {
        units[Number(ticket - base)]();
      } catch (error) {
        // Not rethrown: every ticket must still be claimed and counted, or the next step's
        // tickets would overlap this one's (and the coordinator would wait forever).
        Atomics.store(this.words, FAILED, 1);
        this.firstError ??= error;
      }
      if (Atomics.add(this.tickets, COMPLETED, 1n) + 1n === end) Atomics.notify(this.tickets, COMPLETED);
    }
  }
}

/**
 * The coordinator's side of a run: steps `[from, to)` of program `program` in order. A step with
 * one unit (SE gate, pooling, softmax, layout) runs right here without waking anyone; a step
 * with several is published for the helpers and shared. Returns why the run is incomplete (a
 * unit threw on some thread), or null.
 */
export function coordinateRun(
  queue: WorkQueue, run: number, program: number, from: number, to: number, unitsOf: (program: number, step: number) => Units,
): string | null {
  if (!queue.beginRun(run)) return `run ${run} is not the one the host requested`;
  let failure: string | null = null;
  try {
    for (let step = from; step < to && !queue.failed; step++) {
      const units = unitsOf(program, step);
      if (units.length === 1) units[0]();
      else queue.runStep(run, program, step, units);
    }
  } catch (error) {
    failure = errorMessage(error);
  } finally {
    queue.endRun(run);
  }
  const ownError = queue.takeError();
  if (failure === null && ownError !== null) failure = errorMessage(ownError);
  if (failure === null && queue.failed) failure = 'a kernel call failed on a helper thread';
  return failure;
}
