/**
 * Choosing the build: `simd: 'relaxed'` where this engine has no relaxed SIMD (plain Node 20, as
 * the default test project runs) falls back to the deterministic build and says why; the CLI's
 * `--simd` does the same, and runs relaxed under the V8 flag. The relaxed build's numbers are
 * tested in test/relaxed/ (a project with the flag on).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EfficientNet } from '../../src/efficientnet.js';
import { ConfigError } from '../../src/errors.js';
import { RELAXED_SIMD_FLAG, relaxedSimdProblem } from '../../src/runtime/simd.js';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { runCli } from '../support/cli.js';
import { sha256 } from '../support/hash.js';

const relaxedBuild = readFileSync(new URL('../../build/efficientnet-relaxed.wasm', import.meta.url));
const weights = createSyntheticWeights({ variant: 'b0', seed: 3 });

describe('choosing the SIMD build', () => {
  it('detects relaxed SIMD exactly when this engine accepts the relaxed build', () => {
    expect(relaxedSimdProblem() === null).toBe(WebAssembly.validate(relaxedBuild));
  });

  it('falls back to the deterministic build with the reason, or runs relaxed where it can', async () => {
    const problem = relaxedSimdProblem();
    const net = await EfficientNet.create({ variant: 'b0', weights, simd: 'relaxed' });
    try {
      if (problem === null) {
        expect(net.simd).toEqual({ mode: 'relaxed' });
        return;
      }
      expect(net.simd).toEqual({ mode: 'deterministic', reason: problem });
      expect(problem).toMatch(/--experimental-wasm-relaxed-simd/);
      // The fallback is the deterministic build itself: the same bits as a default model.
      const plain = await EfficientNet.create({ variant: 'b0', weights });
      const input = new Float32Array(3 * 48 * 48).map((_, i) => Math.sin(i * 0.1)); // [1, 3, 48, 48]
      const [a, b] = [await net.forward(input, [1, 3, 48, 48]), await plain.forward(input, [1, 3, 48, 48])];
      plain.dispose();
      expect(sha256(a.logits)).toBe(sha256(b.logits));
    } finally {
      net.dispose();
    }
  });

  it('refuses an unknown mode before building anything', async () => {
    await expect(EfficientNet.create({ variant: 'b0', weights, simd: 'fast' as never })).rejects.toThrow(ConfigError);
    await expect(EfficientNet.create({ variant: 'b0', weights, simd: 'fast' as never })).rejects.toThrow(/"deterministic" or "relaxed"/);
  });

  it('says the reference backend has no relaxed mode', async () => {
    const net = await EfficientNet.create({ variant: 'b0', weights, simd: 'relaxed', backend: 'reference' });
    expect(net.simd.mode).toBe('deterministic');
    expect(net.simd.reason).toMatch(/reference backend/);
    net.dispose();
  });
});

describe('efficientnet bench --simd', () => {
  const args = ['bench', '--variant', 'b0', '--resolution', '32', '--runs', '1', '--json'];

  it('runs the relaxed build under the V8 flag', () => {
    // Node 20 needs the flag; an engine with relaxed SIMD on needs nothing.
    const result = runCli([...args, '--simd', 'relaxed'], undefined, relaxedSimdProblem() === null ? [] : [RELAXED_SIMD_FLAG]);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { simd: string; simdReason?: string };
    expect(report.simd).toBe('relaxed');
    expect(report.simdReason).toBeUndefined();
  });

  it('falls back without it and says how to turn it on', () => {
    const result = runCli([...args, '--simd', 'relaxed']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { simd: string; simdReason?: string };
    expect(report.simd).toBe(relaxedSimdProblem() === null ? 'relaxed' : 'deterministic');
    if (report.simd === 'deterministic') expect(report.simdReason).toMatch(/--experimental-wasm-relaxed-simd/);
  });

  it('refuses an unknown mode with a usage error', () => {
    const result = runCli([...args, '--simd', 'fast']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown --simd "fast": expected deterministic or relaxed/);
  });
});
