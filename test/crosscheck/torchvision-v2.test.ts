/**
 * torchvision's own EfficientNetV2 as a reference for this project's V2. The fixture
 * (scripts/make-torchvision-v2-fixtures.py) is EfficientNetV2-S's stage table at width 0.125 and
 * depth 0.25 built with torchvision 0.14's EfficientNet, FusedMBConvConfig and MBConvConfig, saved
 * by torch.save with torchvision's tensor names, with torchvision's logits and pooled features on a
 * fixed input. Here the .pth goes through the project's PyTorch loader and torchvision name
 * mapping, the network through `decodeTopology`, and the forward pass through the SIMD core: an
 * independent implementation of conv-bn-act, fused-MBConv, MBConv with SE, symmetric padding and
 * BN eps 1e-3 agreeing with this one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectedTensors } from '../../src/arch/layers.js';
import { decodeTopology } from '../../src/arch/network.js';
import { EFFICIENTNET_V2_S } from '../../src/arch/stages.js';
import { buildProgram } from '../../src/plan/program.js';
import { WasmEngine } from '../../src/runtime/wasm-engine.js';
import { matchTensors } from '../../src/weights/match.js';
import { toTimmNaming } from '../../src/weights/naming/index.js';
import { openWeights } from '../../src/weights/open.js';
import { foldingRecipe } from '../../src/weights/recipe.js';
import { expectWithin, FLOAT32_EPSILON } from '../support/tolerance.js';

const FIXTURES = new URL('../fixtures/torchvision-v2/', import.meta.url);
const meta = JSON.parse(readFileSync(new URL('meta.json', FIXTURES), 'utf8')) as {
  inputShape: [number, number, number, number]; classes: number; headChannels: number; width: number; depth: number; bnEps: number;
};
const floats = (name: string): Float32Array => {
  const bytes = readFileSync(new URL(name, FIXTURES));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

const maxAbs = (values: Float32Array): number => values.reduce((max, v) => Math.max(max, Math.abs(v)), 0);

describe('EfficientNetV2 against torchvision\'s own', () => {
  const network = decodeTopology(EFFICIENTNET_V2_S, { width: meta.width, depth: meta.depth, resolution: 48, dropout: 0.2 }, 'custom', meta.classes);

  it('maps every torchvision tensor onto the network this project builds', async () => {
    const named = await toTimmNaming(await openWeights(readFileSync(new URL('model.pth', FIXTURES))));
    expect(named.naming).toBe('torchvision');
    // Throws WeightsMismatchError naming any missing, extra or misshapen tensor.
    matchTensors(named.source, expectedTensors(network), { describe: 'the reduced EfficientNetV2-S' });
    expect(network.blocks.map((b) => b.kind)).toEqual(expect.arrayContaining(['conv-bn-act', 'fused-mbconv', 'mbconv']));
    expect(network.blocks.find((b) => b.kind === 'conv-bn-act')!.residual).toBe(true);
    expect(network.headChannels).toBe(meta.headChannels);
  });

  it('gives torchvision\'s logits and features', async () => {
    const named = await toTimmNaming(await openWeights(readFileSync(new URL('model.pth', FIXTURES))));
    const engine = await WasmEngine.load(named.source, foldingRecipe(network), meta.bnEps);
    try {
      const program = buildProgram(network, 'symmetric', meta.inputShape);
      const result = await engine.run(program, floats('input.f32'), {});
      // torchvision ran in float64 on the same (float16-exact) weights, so the only differences are
      // this core's float32 roundings: at most one float32 ulp (2^-23, relative) per weighted layer
      // the signal passes through, times the output's scale, the same budget the ONNX test derives.
      // A wrong tap, padding, fold or block layout moves results by a sizeable fraction of that scale.
      const layers = foldingRecipe(network).length;
      for (const [name, ours, theirs] of [
        ['logits', result.logits, floats('logits.f32')], ['features', result.features, floats('features.f32')],
      ] as const) {
        const bound = layers * FLOAT32_EPSILON * maxAbs(theirs);
        const diff = ours.reduce((max, v, i) => Math.max(max, Math.abs(v - theirs[i])), 0);
        console.log(`torchvision V2 ${name}: max |core - torchvision| = ${diff.toExponential(2)} (bound ${bound.toExponential(2)}, scale ${maxAbs(theirs).toFixed(2)})`);
        expectWithin(ours, theirs, () => bound, name);
      }
    } finally {
      engine.dispose();
    }
  });
});
