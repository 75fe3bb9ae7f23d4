/**
 * (Compiled to dist-bench/bench/, two levels below the package root like bench/ itself.)
 * Runs the built `efficientnet embed` (or `merge`) as a child process, as a user would, and
 * watches it: wall time, the summary line it prints, and its peak resident memory (VmHWM from
 * /proc, Linux only) sampled when the run passes given image counts.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface WatchedRun {
  readonly status: number | null;
  readonly seconds: number;
  readonly stdout: string;
  /** Peak RSS in MiB when the manifest first showed at least each requested count, and at the end. */
  readonly peakMiB: ReadonlyMap<number | 'end', number>;
}

function peakRssMiB(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function processed(outDir: string | undefined): number {
  if (outDir === undefined) return 0;
  try {
    return (JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as { processed: number }).processed;
  } catch {
    return 0;
  }
}

export function watchCli(args: readonly string[], options: { outDir?: string; rssAt?: readonly number[] } = {}): Promise<WatchedRun> {
  const began = performance.now();
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const peaks = new Map<number | 'end', number>();
  let last: number | null = null;
  const timer = setInterval(() => {
    const peak = peakRssMiB(child.pid!);
    if (peak === null) return;
    last = peak;
    const done = processed(options.outDir);
    for (const at of options.rssAt ?? []) if (!peaks.has(at) && done >= at) peaks.set(at, peak);
  }, 100);
  return new Promise((resolve) => {
    child.on('exit', (status) => {
      clearInterval(timer);
      if (last !== null) peaks.set('end', last);
      resolve({ status, seconds: (performance.now() - began) / 1000, stdout, peakMiB: peaks });
    });
  });
}

/** The embed summary's numbers: images, seconds, images/s and the network's waiting share. */
export function parseSummary(stdout: string): { images: number; seconds: number; rate: number; waitingPercent: number } {
  const match = /(\d+) images in ([\d.]+) s \(([\d.]+) images\/s\); the network waited for input ([\d.]+)%/.exec(stdout);
  if (!match) throw new Error(`no summary line in: ${stdout}`);
  return { images: Number(match[1]), seconds: Number(match[2]), rate: Number(match[3]), waitingPercent: Number(match[4]) };
}
