/**
 * Worker threads never outlive their model or hold a process open: `dispose()` stops them, and
 * a program that forgets to dispose still exits. Each case runs in a fresh Node process using
 * the built package in `dist/` (made by `npm run build`, which `npm test` runs first), because
 * the workers run the built `worker.js`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const LIBRARY = new URL('../../dist/index.js', import.meta.url).href;
/** Far above the few seconds each script needs, so only a hang reaches it. */
const HANG_TIMEOUT_MS = 60_000;

/** Runs an ES module in a fresh Node and returns its exit status and the JSON it printed last. */
function runScript(body: string): { status: number | null; output: unknown; stderr: string } {
  const source = `
    import { EfficientNet, createSyntheticWeights } from ${JSON.stringify(LIBRARY)};
    const weights = createSyntheticWeights({ variant: 'b0', seed: 1 });
    const shape = [1, 3, 64, 64];
    const input = new Float32Array(3 * 64 * 64).fill(0.5);
    ${body}`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8', timeout: HANG_TIMEOUT_MS });
  const lines = result.stdout.trim().split('\n');
  return { status: result.status, output: lines[lines.length - 1] ? JSON.parse(lines[lines.length - 1]) : null, stderr: result.stderr };
}

describe('thread pool shutdown', () => {
  it('dispose() stops the worker threads', () => {
    // Linux lists a process's threads in /proc/self/task; count them around a model's life.
    if (!existsSync('/proc/self/task')) return;
    const { status, output, stderr } = runScript(`
      import { readdirSync } from 'node:fs';
      const threadCount = () => readdirSync('/proc/self/task').length;
      const before = threadCount();
      const net = await EfficientNet.create({ variant: 'b0', weights, threads: 3 });
      await net.forward(input, shape);
      const running = threadCount();
      net.dispose();
      let after = threadCount();
      for (let waited = 0; after > before && waited < 10000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        after = threadCount();
      }
      console.log(JSON.stringify({ threads: net.threads, added: running - before, left: after - before }));
    `);
    expect(status, stderr).toBe(0);
    // In Node this thread coordinates and computes, so 3 threads are 2 workers.
    expect(output).toEqual({ threads: 3, added: 2, left: 0 });
  });

  it('a process that forgets dispose() still exits', () => {
    const { status, output, stderr } = runScript(`
      const net = await EfficientNet.create({ variant: 'b0', weights, threads: 2 });
      const { logits } = await net.forward(input, shape);
      console.log(JSON.stringify({ threads: net.threads, classes: logits.length }));
    `);
    expect(status, stderr).toBe(0);
    expect(output).toEqual({ threads: 2, classes: 1000 });
  });

  it('a disposed model refuses to run', () => {
    const { status, output, stderr } = runScript(`
      const net = await EfficientNet.create({ variant: 'b0', weights, threads: 2 });
      net.dispose();
      const error = await net.forward(input, shape).then(() => null, (e) => e.code);
      console.log(JSON.stringify({ error }));
    `);
    expect(status, stderr).toBe(0);
    expect(output).toEqual({ error: 'CONFIG' });
  });
});
