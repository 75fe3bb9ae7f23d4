/**
 * `efficientnet bench --threads`: the flag reaches the model, and the report says how many
 * threads ran. Uses the built CLI (`npm run build`, which `npm test` runs first).
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { MAX_THREADS } from '../../src/runtime/threads/core.js';
import { runCli } from '../support/cli.js';

const bench = (threads: string): { status: number | null; report: Record<string, unknown> | null; stderr: string } => {
  const result = runCli(['bench', '--variant', 'b0', '--resolution', '64', '--runs', '2', '--threads', threads, '--json']);
  return { status: result.status, report: result.status === 0 ? JSON.parse(result.stdout) : null, stderr: result.stderr };
};

describe('efficientnet bench --threads', () => {
  it('runs on 2 threads', () => {
    const { status, report, stderr } = bench('2');
    expect(status, stderr).toBe(0);
    expect(report).toMatchObject({ variant: 'b0', threads: 2 });
    expect(report).not.toHaveProperty('threadsReason');
    expect(report!.medianMs).toBeGreaterThan(0);
  });
  it('runs on one thread per core with auto', () => {
    const { status, report, stderr } = bench('auto');
    expect(status, stderr).toBe(0);
    expect(report).toMatchObject({ threads: Math.min(MAX_THREADS, availableParallelism()) });
  });
  it('refuses a count that is not a positive integer', () => {
    const { status, stderr } = bench('two');
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/--threads must be a positive integer/);
  });
});
