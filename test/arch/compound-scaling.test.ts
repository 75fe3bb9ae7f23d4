/**
 * The paper's compound rule as the code builds it: multipliers, rounding and totals checked against
 * numbers worked out by hand (written out below, not recomputed with the code's own rules), against
 * the official table where the rule lands on one of its rows, and against bad input.
 */
import { describe, expect, it } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { summarizeNetwork } from '../../src/arch/summary.js';
import { compoundCoefficients, compoundCostFactor, compoundScaling, PAPER_COMPOUND } from '../../src/arch/scaling.js';
import { ConfigError, InputShapeError } from '../../src/errors.js';
import { scaleOneAxis, summarizeCompoundScaling, SCALING_AXES } from '../../src/scaling-summary.js';

/** Stage output channels and repeats of a network, stage by stage (timm's blocks.0 … blocks.6). */
function stageTable(network: ReturnType<typeof buildNetwork>): { channels: number[]; repeats: number[] } {
  const channels: number[] = [];
  const repeats: number[] = [];
  for (const block of network.blocks) {
    if (block.index === 0) {
      channels.push(block.outChannels);
      repeats.push(0);
    }
    repeats[repeats.length - 1]++;
  }
  return { channels, repeats };
}

// Worked by hand from B0's stem 32, stages 16 24 40 80 112 192 320 (repeats 1 2 2 3 3 4 1), head 1280:
// a channel count c becomes max(8, floor((c*w + 4) / 8) * 8), plus 8 when that is under 0.9*c*w;
// repeats become ceil(d * r); the resolution is 224 * gamma^phi rounded.
const HAND_COMPUTED = [
  {
    phi: 1, depth: 1.2, width: 1.1, resolution: 258, // 224 * 1.15 = 257.6
    stem: 32, // 35.2 -> 32 (not under 31.68)
    channels: [16, 24, 48, 88, 120, 208, 352], // 17.6->16, 26.4->24, 44->48, 88, 123.2->120, 211.2->208, 352
    repeats: [2, 3, 3, 4, 4, 5, 2], // 1.2, 2.4, 2.4, 3.6, 3.6, 4.8, 1.2 rounded up
    head: 1408,
  },
  {
    phi: 2, depth: 1.44, width: 1.21, resolution: 296, // 224 * 1.3225 = 296.24
    stem: 40, // 38.72 -> 40
    channels: [24, 32, 48, 96, 136, 232, 384], // 19.36 -> 16 is under 17.42, so 24; 29.04->32; 48.4->48; 96.8->96; 135.52->136; 232.32->232; 387.2->384
    repeats: [2, 3, 3, 5, 5, 6, 2], // 1.44, 2.88, 2.88, 4.32, 4.32, 5.76, 1.44 rounded up
    head: 1552, // 1548.8 -> 1552
  },
  {
    phi: 3, depth: 1.728, width: 1.331, resolution: 341, // 224 * 1.520875 = 340.68
    stem: 40, // 42.59 -> 40
    channels: [24, 32, 56, 104, 152, 256, 424], // 21.30->24, 31.94->32, 53.24->56, 106.48->104, 149.07->152, 255.55->256, 425.92->424
    repeats: [2, 4, 4, 6, 6, 7, 2], // 1.728, 3.456, 3.456, 5.184, 5.184, 6.912, 1.728 rounded up
    head: 1704, // 1703.68 -> 1704
  },
] as const;

describe('compoundScaling', () => {
  it.each(HAND_COMPUTED)('phi $phi: multipliers, resolution, channels and repeats as worked by hand', (expected) => {
    const coefficients = compoundScaling(expected.phi);
    // 1.2^phi and 1.1^phi in doubles differ from the decimal products in the last bit or two.
    expect(coefficients.depth).toBeCloseTo(expected.depth, 12);
    expect(coefficients.width).toBeCloseTo(expected.width, 12);
    expect(coefficients.resolution).toBe(expected.resolution);
    const network = buildNetwork(coefficients);
    expect(network.stemChannels).toBe(expected.stem);
    expect(network.headChannels).toBe(expected.head);
    expect(stageTable(network)).toEqual({ channels: expected.channels, repeats: expected.repeats });
  });

  it('is B0 exactly at phi 0, whatever the bases', () => {
    for (const bases of [{}, { alpha: 1.9, beta: 1.3, gamma: 2 }]) {
      const b0 = buildNetwork('b0');
      const phi0 = buildNetwork(compoundScaling(0, bases));
      expect(phi0.blocks).toEqual(b0.blocks);
      expect([phi0.stemChannels, phi0.headChannels, phi0.coefficients.resolution]).toEqual([32, 1280, 224]);
    }
  });

  it('keeps the paper\'s bases and their cost factor', () => {
    expect(PAPER_COMPOUND).toMatchObject({ alpha: 1.2, beta: 1.1, gamma: 1.15, baseResolution: 224 });
    // 1.2 * 1.21 * 1.3225 = 1.920270 exactly in decimals; doubles agree to 1e-12.
    expect(compoundCostFactor(compoundCoefficients())).toBeCloseTo(1.92027, 12);
    expect(compoundCostFactor({ alpha: 2, beta: 1, gamma: 1 })).toBe(2);
    expect(compoundCostFactor({ alpha: 1, beta: 1, gamma: Math.SQRT2 })).toBeCloseTo(2, 15);
  });

  it('takes a fractional phi: phi 0.5 has B1\'s 240 pixels', () => {
    // 224 * sqrt(1.15) = 240.21; depth sqrt(1.2) = 1.0954, width sqrt(1.1) = 1.0488.
    expect(compoundScaling(0.5)).toMatchObject({ resolution: 240 });
    expect(compoundScaling(0.5).depth).toBeCloseTo(1.0954451, 7);
    expect(compoundScaling(0.5).width).toBeCloseTo(1.0488088, 7);
  });

  it('uses other bases when given', () => {
    const c = compoundScaling(2, { alpha: 1.5, beta: 1.25, gamma: 1.1 });
    expect(c.depth).toBeCloseTo(2.25, 12);
    expect(c.width).toBeCloseTo(1.5625, 12);
    expect(c.resolution).toBe(271); // 224 * 1.21 = 271.04
  });

  it('refuses bad numbers with a ConfigError that names the knob', () => {
    expect(() => compoundScaling(-1)).toThrow(/phi must be a number from 0/);
    expect(() => compoundScaling(Number.NaN)).toThrow(ConfigError);
    expect(() => compoundScaling(Number.POSITIVE_INFINITY)).toThrow(ConfigError);
    expect(() => compoundScaling(13)).toThrow(/to 12/);
    expect(() => compoundScaling(1, { alpha: 0.9 })).toThrow(/alpha \(the depth base\).*at least 1/);
    expect(() => compoundScaling(1, { beta: Number.NaN })).toThrow(/beta/);
    expect(() => compoundScaling(1, { gamma: 5 })).toThrow(/gamma.*from 1 to 4/);
    // Sizes the builder would not take: width 2^12 = 4096, resolution 224 * 4^5 = 229,376 pixels.
    expect(() => compoundScaling(12, { beta: 2 })).toThrow(/width 4096.*lower phi or beta/);
    expect(() => compoundScaling(5, { gamma: 4 })).toThrow(/resolution 229376.*lower phi or gamma/);
  });
});

describe('summarizeCompoundScaling', () => {
  it('gives B0\'s published totals at phi 0', () => {
    const summary = summarizeCompoundScaling({ phi: 0 });
    expect(summary).toMatchObject({ width: 1, depth: 1, resolution: 224, blocks: 16, params: 5_288_548, macs: 385_814_752 });
    expect(summary.costFactor).toBeCloseTo(1.92027, 12);
  });

  it('builds B2\'s network at phi 1, so it has B2\'s published parameter count', () => {
    // The table's B2 is width 1.1 and depth 1.2, exactly 1.1^1 and 1.2^1; only its resolution (260, not 258) differs.
    const summary = summarizeCompoundScaling({ phi: 1 });
    expect(summary.network.blocks).toEqual(buildNetwork('b2').blocks);
    expect(summary.params).toBe(9_109_994);
    expect(summary.resolution).toBe(258);
  });

  it('counts more activation memory for a larger batch and refuses a bad one', () => {
    const one = summarizeCompoundScaling({ phi: 1 });
    const four = summarizeCompoundScaling({ phi: 1, batch: 4 });
    expect(four.activationBytes).toBeGreaterThan(3 * one.activationBytes);
    expect(four.macs).toBe(one.macs); // per image
    expect(() => summarizeCompoundScaling({ phi: 1, batch: 0 })).toThrow(InputShapeError);
  });
});

describe('scaleOneAxis', () => {
  it.each(SCALING_AXES)('scales only %s, to the step of multiply-adds nearest a compound network\'s', (axis) => {
    const target = summarizeCompoundScaling({ phi: 2 }).macs;
    const single = scaleOneAxis(axis, target);
    const { width, depth, resolution } = single.coefficients;
    expect({ width: axis === 'width' ? 1 : width, depth: axis === 'depth' ? 1 : depth, resolution: axis === 'resolution' ? 224 : resolution })
      .toEqual({ width: 1, depth: 1, resolution: 224 });
    expect(single.coefficients[axis]).toBeGreaterThan(axis === 'resolution' ? 224 : 1);
    // Rounding makes the cost a staircase; the steps near 1.8 G are a few percent apart, so within 5%.
    expect(Math.abs(single.macs - target) / target).toBeLessThan(0.05);
  });

  it('picks the resolution whose cost is nearest, not just the first above', () => {
    const target = summarizeCompoundScaling({ phi: 1 }).macs;
    const { coefficients, macs } = scaleOneAxis('resolution', target);
    const costAt = (side: number): number => summarizeNetwork(buildNetwork('b0'), side).macs;
    expect(costAt(coefficients.resolution)).toBe(macs);
    for (const neighbour of [coefficients.resolution - 1, coefficients.resolution + 1]) {
      expect(Math.abs(costAt(neighbour) - target)).toBeGreaterThanOrEqual(Math.abs(macs - target));
    }
  });

  it('refuses a target below B0\'s cost', () => {
    expect(() => scaleOneAxis('width', 1000)).toThrow(/cannot scale width alone/);
  });
});
