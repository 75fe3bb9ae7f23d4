/**
 * The walkthrough's "three equations" part: each of the paper's equations points at the code that
 * implements it (the references themselves are checked by walkthrough.test.ts), and its table of
 * compound-scaled networks is what `summarizeCompoundScaling` builds now.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summarizeCompoundScaling } from '../../src/scaling-summary.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs/walkthrough.md'), 'utf8');

/** The paragraph that starts with `**Equation N`, up to the next blank line. */
function equationParagraph(n: number): string {
  const match = new RegExp(`^\\*\\*Equation ${n}[^\\n]*(?:\\n(?!\\n)[^\\n]*)*`, 'm').exec(DOC);
  expect(match, `the walkthrough has no paragraph starting **Equation ${n}`).not.toBeNull();
  return match![0];
}

describe('docs/walkthrough.md, the paper\'s equations', () => {
  it.each([
    [1, ['`B0_STAGES` in', '`StageSpec` in', '`decodeTopology`', '`networkLayers` in']],
    [2, ['`buildNetwork` in', '`customScaling', '`roundRepeats`', '`roundChannels`', '`summarizeNetwork` in', '`planProgramMemory` in']],
    [3, ['`compoundScaling` in', '`compoundCoefficients` in', '`compoundCostFactor` in', '`PAPER_COMPOUND` in']],
  ] as const)('equation %i names the functions that implement it', (n, names) => {
    const paragraph = equationParagraph(n);
    for (const name of names) expect(paragraph).toContain(name);
  });

  it('tabulates the compound networks exactly as the code builds them', () => {
    const rows = [...DOC.matchAll(/^\| (\d) \| ([\d.]+) \| ([\d.]+) \| (\d+) \| (\d+) \| ([\d,]+) \| ([\d,]+) \| ([\d.]+) \| ([\d.]+) \|$/gm)];
    expect(rows.map((r) => Number(r[1]))).toEqual([0, 1, 2, 3]);
    const b0 = summarizeCompoundScaling({ phi: 0 });
    const number = (text: string): number => Number(text.replaceAll(',', ''));
    for (const row of rows) {
      const s = summarizeCompoundScaling({ phi: Number(row[1]) });
      // Multipliers are printed to the digits the decimal product has (1.2^3 = 1.728), ratios to 2 decimals.
      expect(number(row[2])).toBeCloseTo(s.depth, 12);
      expect(number(row[3])).toBeCloseTo(s.width, 12);
      expect([number(row[4]), number(row[5]), number(row[6]), number(row[7])]).toEqual([s.resolution, s.blocks, s.params, s.macs]);
      expect(row[8]).toBe((s.macs / b0.macs).toFixed(2).replace(/\.00$/, ''));
      expect(row[9]).toBe((s.costFactor ** s.phi).toFixed(2).replace(/\.00$/, ''));
    }
  });
});
