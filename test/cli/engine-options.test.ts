/**
 * `--threads` and `--simd` on the commands that run a network: the same answers on any thread
 * count, the same bits when relaxed SIMD is asked for but absent (with a note saying why), and
 * usage errors for values that make no sense.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/cli/npy.js';
import { relaxedSimdProblem } from '../../src/runtime/simd.js';
import { runCli } from '../support/cli.js';
import { mulberry32, randomFloats } from '../support/random.js';

const workdir = mkdtempSync(join(tmpdir(), 'efficientnet-engine-'));
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

const classify = ['classify', 'data/images', '--model', 'tf_efficientnet_b0.ns_jft_in1k', '--random-weights', '--json'];

describe('--threads and --simd', () => {
  it('classify gives the same answers, to the last digit, on one thread and on two', () => {
    const one = runCli([...classify, '--threads', '1']);
    const two = runCli([...classify, '--threads', '2']);
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    expect(two.stderr).not.toMatch(/note: running on one thread/);
    expect(JSON.parse(two.stdout)).toEqual(JSON.parse(one.stdout));
  });

  it('run without relaxed SIMD in the engine notes the fallback and writes the deterministic bits', () => {
    const weights = join(workdir, 'b0.safetensors');
    expect(runCli(['init-weights', '--variant', 'b0', '--seed', '5', '--out', weights]).status).toBe(0);
    const input = join(workdir, 'x.npy');
    writeFileSync(input, encodeNpy(randomFloats(mulberry32(9), 3 * 40 * 48, 1), [1, 3, 40, 48]));
    const run = (simd: string, logits: string) =>
      runCli(['run', '--variant', 'b0', '--weights', weights, '--input', input, '--logits', join(workdir, logits), '--simd', simd]);
    const plain = run('deterministic', 'plain.npy');
    const asked = run('relaxed', 'asked.npy');
    expect(plain.status, plain.stderr).toBe(0);
    expect(asked.status, asked.stderr).toBe(0);
    const problem = relaxedSimdProblem();
    if (problem === null) {
      expect(asked.stderr).not.toMatch(/note:/);
    } else {
      expect(asked.stderr).toContain(`note: running the deterministic build: ${problem}`);
      expect(readFileSync(join(workdir, 'asked.npy'))).toEqual(readFileSync(join(workdir, 'plain.npy')));
    }
  });

  it('refuses a thread count that is not a positive integer, and an unknown build', () => {
    const zero = runCli([...classify, '--threads', '0']);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toMatch(/--threads must be a positive integer, got "0"/);
    const tooMany = runCli([...classify, '--threads', '99']);
    expect(tooMany.status).toBe(2);
    expect(tooMany.stderr).toMatch(/threads must be an integer from 1 to 16/);
    const fast = runCli([...classify, '--simd', 'fast']);
    expect(fast.status).toBe(2);
    expect(fast.stderr).toMatch(/unknown --simd "fast"/);
  });
});
