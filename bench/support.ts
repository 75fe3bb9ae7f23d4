/**
 * Shared bench plumbing: interleaved rounds so a noisy neighbour slows every contender alike,
 * and medians of the pooled samples (a shared machine varies 10-20% between runs).
 */
import { Bench } from 'tinybench';
import { median } from '../src/cli/median.js';
import { createSyntheticWeights } from '../src/weights/synthetic.js';

export interface Contender {
  readonly name: string;
  readonly run: () => unknown | Promise<unknown>;
}

export interface Measurement {
  readonly name: string;
  readonly medianMs: number;
  readonly samples: number;
}

export { median };

/** Runs `rounds` tinybench passes over all contenders, alternating their order, and pools the samples. */
export async function interleave(contenders: readonly Contender[], rounds: number, iterationsPerRound: number): Promise<Measurement[]> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ iterations: iterationsPerRound, time: 0, warmupIterations: 1, warmupTime: 0, retainSamples: true });
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) bench.add(c.name, c.run);
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result as { latency?: { samples?: readonly number[] } };
      samples.get(task.name)!.push(...(result.latency?.samples ?? []));
    }
  }
  return contenders.map((c) => ({ name: c.name, medianMs: median(samples.get(c.name)!), samples: samples.get(c.name)!.length }));
}

export function machineLine(): string {
  return `${process.platform} ${process.arch}, Node ${process.versions.node}, V8 ${process.versions.v8}, ${new Date().toISOString().slice(0, 10)}`;
}

/** The benches' common job: synthetic B0 weights (seed 1) and one smooth square image. */
export function b0Workload(resolution = 224): { bytes: Uint8Array; shape: readonly [1, 3, number, number]; input: Float32Array } {
  const bytes = createSyntheticWeights({ variant: 'b0', seed: 1 });
  const input = new Float32Array(3 * resolution * resolution); // [1, 3, resolution, resolution]
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.01);
  return { bytes, shape: [1, 3, resolution, resolution], input };
}
