import { describe, expect, it } from 'vitest';
import { buildNetwork } from '../../src/arch/network.js';
import { axisGeometry } from '../../src/plan/geometry.js';
import { buildProgram, gatesProjectionWeights, type Step } from '../../src/plan/program.js';
import { InputShapeError } from '../../src/errors.js';

describe('padding geometry', () => {
  it('puts the odd extra pixel after the input for TF SAME', () => {
    expect(axisGeometry(224, 3, 2, 'same')).toEqual({ output: 112, before: 0, after: 1 });
    expect(axisGeometry(225, 3, 2, 'same')).toEqual({ output: 113, before: 1, after: 1 });
    expect(axisGeometry(14, 5, 2, 'same')).toEqual({ output: 7, before: 1, after: 2 });
    expect(axisGeometry(7, 5, 1, 'same')).toEqual({ output: 7, before: 2, after: 2 });
  });
  it('pads k/2 on both sides for symmetric', () => {
    expect(axisGeometry(224, 3, 2, 'symmetric')).toMatchObject({ output: 112, before: 1 });
    expect(axisGeometry(14, 5, 2, 'symmetric')).toMatchObject({ output: 7, before: 2 });
  });
  it('gives the same output size in both families for odd kernels', () => {
    for (let size = 1; size < 40; size++) {
      for (const k of [3, 5]) for (const s of [1, 2]) {
        expect(axisGeometry(size, k, s, 'same').output).toBe(axisGeometry(size, k, s, 'symmetric').output);
      }
    }
  });
});

describe('program', () => {
  const program = buildProgram(buildNetwork('b0'), 'same', [1, 3, 224, 224]);

  it('reads only buffers written earlier', () => {
    const written = new Set([program.input]);
    program.steps.forEach((step: Step) => {
      for (const id of step.reads) expect(written.has(id), `${step.module} reads ${id} before it is written`).toBe(true);
      for (const id of step.writes) written.add(id);
    });
  });
  it('reaches strides 2 to 32 at the published sizes', () => {
    const last = new Map<number, string>();
    for (const c of program.checkpoints) if (c.module.startsWith('blocks') || c.module === 'bn1') last.set(c.stride, c.buffer);
    expect([...last.keys()]).toEqual([2, 4, 8, 16, 32]);
    expect([...last.values()].map((id) => program.buffers.get(id)!.shape.slice(1))).toEqual([
      [112, 112, 16], [56, 56, 24], [28, 28, 40], [14, 14, 112], [7, 7, 320],
    ]);
  });
  it('adds residuals exactly where blocks keep shape', () => {
    const residuals = program.steps.filter((s) => s.kind === 'pointwise' && s.residual !== null).map((s) => s.module);
    expect(residuals.length).toBe(buildNetwork('b0').blocks.filter((b) => b.residual).length);
    expect(residuals).toContain('blocks.1.1.conv_pwl');
    expect(residuals).not.toContain('blocks.1.0.conv_pwl');
  });
  it('refuses impossible input shapes with InputShapeError', () => {
    const net = buildNetwork('b0');
    expect(() => buildProgram(net, 'same', [1, 4, 32, 32])).toThrow(InputShapeError);
    expect(() => buildProgram(net, 'same', [0, 3, 32, 32])).toThrow(/batch/);
    expect(() => buildProgram(net, 'same', [1, 3, 32.5, 32])).toThrow(/height/);
    expect(() => buildProgram(net, 'same', [1, 3, 32, 100000])).toThrow(InputShapeError);
  });
});

describe('program of Lite and V2: the same walk over other block data', () => {
  const kinds = (steps: readonly Step[]): string[] => [...new Set(steps.map((s) => s.kind))].sort();

  it('gives Lite ReLU6 epilogues and no SE steps, B0\'s shapes otherwise', () => {
    const lite = buildProgram(buildNetwork('lite0'), 'same', [1, 3, 224, 224]);
    const b0 = buildProgram(buildNetwork('b0'), 'same', [1, 3, 224, 224]);
    expect(kinds(lite.steps)).not.toContain('se-gate');
    expect(kinds(lite.steps)).not.toContain('channel-scale');
    const activations = new Set(lite.steps.map((s) => ('activation' in s ? s.activation : null)).filter((a) => a !== null));
    expect(activations).toEqual(new Set(['relu6', 'none']));
    const shapesOf = (p: typeof lite) => p.checkpoints.map((c) => `${c.module} ${p.buffers.get(c.buffer)!.shape.join('x')}`);
    expect(shapesOf(lite)).toEqual(shapesOf(b0));
  });

  it('runs V2\'s conv-bn-act and fused-MBConv convs as full convs, the conv-bn-act skip riding on the conv', () => {
    const program = buildProgram(buildNetwork('v2_s'), 'symmetric', [1, 3, 64, 64]);
    const convs = program.steps.filter((s) => s.kind === 'conv2d');
    expect(convs.map((s) => s.module).slice(0, 5)).toEqual(
      ['conv_stem', 'blocks.0.0.conv', 'blocks.0.1.conv', 'blocks.1.0.conv_exp', 'blocks.1.1.conv_exp']);
    const first = convs.find((s) => s.module === 'blocks.0.0.conv')!;
    expect(first.kind === 'conv2d' && first.residual).toBe('stem'); // 24 -> 24 at stride 1: adds the stem's output
    expect(first.reads).toEqual(['stem', 'stem']);
    const fused = convs.find((s) => s.module === 'blocks.1.0.conv_exp')!;
    expect(fused).toMatchObject({ inChannels: 24, outChannels: 96, stride: 2, activation: 'swish', residual: null });
    // SE only in the MBConv stages (blocks.3 on), whose depthwise steps write the band sums.
    const gated = program.steps.filter((s) => s.kind === 'se-gate').map((s) => s.module.split('.')[1]);
    expect(new Set(gated)).toEqual(new Set(['3', '4', '5']));
  });
});

describe('where the SE gate is applied', () => {
  it('scales the projection weights per image where the map has more pixels than the padded outputs, else the map', () => {
    const program = buildProgram(buildNetwork('b0'), 'same', [2, 3, 224, 224]);
    const applied = new Map<string, string>();
    for (const step of program.steps) {
      if (step.kind === 'gate-weights' || step.kind === 'channel-scale') applied.set(step.module, step.kind);
    }
    // One gate application per SE block, and which one follows the rule on each block's sizes.
    expect(applied.size).toBe(program.steps.filter((s) => s.kind === 'se-gate').length);
    for (const step of program.steps) {
      // A block's projection: its pointwise conv without activation.
      if (step.kind !== 'pointwise' || !step.module.startsWith('blocks.') || step.activation !== 'none') continue;
      const block = step.module.slice(0, step.module.lastIndexOf('.'));
      if (!applied.has(`${block}.se`)) continue;
      const pixels = step.rows / program.n;
      expect(applied.get(`${block}.se`), block).toBe(gatesProjectionWeights(pixels, step.outChannels) ? 'gate-weights' : 'channel-scale');
      if (step.gatedWeights === null) continue;
      // The projection reads the per-image copy the gate-weights step wrote: [n, panels, inChannels, 16].
      const writer = program.steps.find((s) => s.writes.includes(step.gatedWeights!))!;
      expect(writer).toMatchObject({ kind: 'gate-weights', conv: step.conv, n: 2, inChannels: step.inChannels, outChannels: step.outChannels });
      expect(step.reads).toContain(step.gatedWeights);
      expect(program.buffers.get(step.gatedWeights)!.shape).toEqual([2, Math.ceil(step.outChannels / 16), step.inChannels, 16]);
    }
    // B0 at 224: the blocks down to 14x14 (outputs <= 112 < 196 pixels) scale weights; the 7x7 ones (192, 320 outputs) maps.
    const kindOf = (block: string) => applied.get(`blocks.${block}.se`);
    expect([kindOf('0.0'), kindOf('1.0'), kindOf('4.2'), kindOf('5.0'), kindOf('6.0')]).toEqual(
      ['gate-weights', 'gate-weights', 'gate-weights', 'channel-scale', 'channel-scale']);
  });
});

describe('program refusals for topologies outside what the kernels implement', () => {
  it('refuses SE after a full conv, and SE in a non-swish block, with ConfigError', async () => {
    const { decodeTopology } = await import('../../src/arch/network.js');
    const { EFFICIENTNET_LITE, EFFICIENTNET_V2_BASE } = await import('../../src/arch/stages.js');
    const { ConfigError } = await import('../../src/errors.js');
    const coefficients = { width: 1, depth: 1, resolution: 64, dropout: 0 };
    const seEverywhere = { ...EFFICIENTNET_V2_BASE, stages: EFFICIENTNET_V2_BASE.stages.map((s) => ({ ...s, seRatio: 0.25 })) };
    expect(() => buildProgram(decodeTopology(seEverywhere, coefficients, 'custom'), 'same', [1, 3, 64, 64])).toThrow(ConfigError);
    const liteWithSe = { ...EFFICIENTNET_LITE, stages: EFFICIENTNET_LITE.stages.map((s) => ({ ...s, seRatio: 0.25 })) };
    expect(() => buildProgram(decodeTopology(liteWithSe, coefficients, 'custom'), 'same', [1, 3, 64, 64])).toThrow(/swish blocks only/);
  });
});
