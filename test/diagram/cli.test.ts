/**
 * `efficientnet diagram` run as a user runs it (the built CLI, see test/support/cli.ts): it writes
 * exactly what the library draws, and refuses bad requests with exit code 2 and no file.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { blockDiagram } from '../../src/diagram/block-diagram.js';
import { networkDiagram } from '../../src/diagram/network-diagram.js';
import { scalingDiagram } from '../../src/diagram/scaling-chart.js';
import { runCli } from '../support/cli.js';

const workdir = mkdtempSync(join(tmpdir(), 'efficientnet-diagram-'));

describe('efficientnet diagram', () => {
  it('writes the scaling chart the library draws', () => {
    const out = join(workdir, 'figures', 'scaling.svg');
    const result = runCli(['diagram', 'scaling', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(out);
    expect(readFileSync(out, 'utf8')).toBe(scalingDiagram());
  });

  it('writes one network at a chosen resolution', () => {
    const out = join(workdir, 'b3.svg');
    const result = runCli(['diagram', '--variant', 'b3', '--resolution', '320', '--out', out]);
    expect(result.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(networkDiagram(buildNetwork('b3'), 320));
  });

  it("draws B0's MBConv1 and MBConv6 side by side for `diagram block`", () => {
    const out = join(workdir, 'b0-blocks.svg');
    const result = runCli(['diagram', 'block', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(blockDiagram(buildNetwork('b0'), ['blocks.0.0', 'blocks.1.1']));
  });

  it('draws one named block of a variant at a chosen resolution', () => {
    const out = join(workdir, 'lite0-block.svg');
    const result = runCli(['diagram', '--variant', 'lite0', '--block', 'blocks.1.1', '--resolution', '256', '--out', out]);
    expect(result.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(blockDiagram(buildNetwork('lite0'), ['blocks.1.1'], 256));
    const same = join(workdir, 'lite0-block-again.svg');
    expect(runCli(['diagram', 'block', '--variant', 'lite0', '--block', 'blocks.1.1', '--resolution', '256', '--out', same]).status).toBe(0);
    expect(readFileSync(same, 'utf8')).toBe(readFileSync(out, 'utf8'));
  });

  it('is listed in the help', () => {
    expect(runCli(['--help']).stdout).toMatch(/^\s+diagram\s/m);
  });

  /** Stands for the output path in the arguments below. */
  const OUT = '<out>';
  const refusals: readonly [string, string[], RegExp][] = [
    ['no --out', ['diagram', 'scaling'], /missing required option --out/],
    ['no diagram named', ['diagram', '--out', OUT], /missing required option --variant/],
    ['an unknown diagram', ['diagram', 'pie', '--out', OUT], /unknown diagram "pie"/],
    ['an unknown variant', ['diagram', '--variant', 'b9', '--out', OUT], /unknown variant "b9"/],
    ['a resolution that is not a positive integer', ['diagram', '--variant', 'b0', '--resolution', '0', '--out', OUT],
      /--resolution must be a positive integer/],
    ['a variant with the scaling chart', ['diagram', 'scaling', '--variant', 'b0', '--out', OUT], /drop --variant/],
    ['an unknown option', ['diagram', 'scaling', '--colour', 'red', '--out', OUT], /unknown option --colour; valid options: /],
    ['an unknown block, naming the valid ones', ['diagram', '--variant', 'b0', '--block', 'blocks.7.0', '--out', OUT],
      /no block "blocks\.7\.0" in EfficientNet-B0; its blocks are blocks\.0\.0, blocks\.1\.0 … blocks\.1\.1, .* blocks\.6\.0/],
    ['a module name for a block', ['diagram', 'block', '--block', 'blocks.1.0.conv_dw', '--out', OUT], /no block "blocks\.1\.0\.conv_dw"/],
    ['a block with the scaling chart', ['diagram', 'scaling', '--block', 'blocks.0.0', '--out', OUT], /drop --variant, --block/],
    ['a block without a variant or the block diagram', ['diagram', '--block', 'blocks.0.0', '--out', OUT], /missing required option --variant/],
  ];
  for (const [what, args, message] of refusals) {
    it(`refuses ${what} with exit code 2 and writes nothing`, () => {
      const out = join(workdir, `refused-${what.replace(/\W+/g, '-')}.svg`);
      const result = runCli(args.map((a) => (a === OUT ? out : a)));
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /); // a reason, not a stack trace
      expect(existsSync(out)).toBe(false);
    });
  }
});
