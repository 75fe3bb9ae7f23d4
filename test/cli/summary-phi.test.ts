/**
 * `efficientnet summary --phi`: the compound rule's network from the command line, run as a user
 * runs it (the built CLI in a child process).
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const json = (args: string[]): Record<string, unknown> => {
  const result = runCli(['summary', ...args, '--json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
};

describe('efficientnet summary --phi', () => {
  it('is B0 exactly at phi 0: the same totals and layers as --variant b0', () => {
    const phi0 = json(['--phi', '0']);
    const b0 = json(['--variant', 'b0']);
    expect(phi0).toMatchObject({ width: 1, depth: 1, resolution: 224, params: 5_288_548, macs: 385_814_752 });
    expect(phi0.layers).toEqual(b0.layers);
    expect(phi0.activationBytes).toBe(b0.activationBytes);
  });

  it('prints the multipliers worked by hand for phi 1', () => {
    const phi1 = json(['--phi', '1']);
    // 1.2^1, 1.1^1 and round(224 * 1.15) = 258; alpha * beta^2 * gamma^2 = 1.2 * 1.21 * 1.3225 = 1.92027.
    expect(phi1.depth).toBeCloseTo(1.2, 12);
    expect(phi1.width).toBeCloseTo(1.1, 12);
    expect(phi1.resolution).toBe(258);
    expect(phi1.costFactor).toBeCloseTo(1.92027, 12);
    expect(phi1).toMatchObject({ blocks: 23, stemChannels: 32, headChannels: 1408, params: 9_109_994 });
  });

  it('takes other bases, and prints a readable summary without --json', () => {
    const custom = json(['--phi', '2', '--alpha', '1.5', '--beta', '1.25', '--gamma', '1.1']);
    expect(custom).toMatchObject({ alpha: 1.5, beta: 1.25, gamma: 1.1, resolution: 271 });
    const text = runCli(['summary', '--phi', '1']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^Compound scaling at phi 1 \(alpha 1\.2, beta 1\.1, gamma 1\.15; alpha\*beta\^2\*gamma\^2 = 1\.9203\)/m);
    expect(text.stdout).toMatch(/depth multiplier:\s+1\.2000 .*23 blocks/);
    expect(text.stdout).toMatch(/width multiplier:\s+1\.1000 .*head 1408/);
    expect(text.stdout).toMatch(/resolution:\s+258x258/);
    expect(text.stdout).toContain('9,109,994');
    expect(text.stdout).toMatch(/activation arena:\s+[\d.]+ MiB/);
  });

  it.each([
    [['--phi=-1'], /phi must be a number from 0/],
    [['--phi', '-1'], /--phi needs a value; .*--phi=-1/],
    [['--phi', 'NaN'], /--phi must be a number/],
    [['--phi', '1', '--alpha', '0.9'], /alpha \(the depth base\) must be a number from 1/],
    [['--phi', '12', '--beta', '2'], /width 4096, above the largest 64.*lower phi or beta/],
    [['--phi', '1', '--variant', 'b0'], /--variant does not go with --phi/],
    [['--phi', '1', '--resolution', '300'], /--resolution does not go with --phi/],
    [['--alpha', '1.2'], /--alpha is a base of the compound rule: give --phi/],
    [['--phi', '1', '--batch', '0'], /--batch must be a positive integer/],
  ])('refuses %j with one line and exit code 2', (args, message) => {
    const result = runCli(['summary', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
