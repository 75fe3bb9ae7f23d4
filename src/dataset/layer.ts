/**
 * Which vector a dataset run keeps per image. `pooled` is the model's embedding: the global
 * average of the head conv's output (`featureChannels` values, what `embed` returns). `stage-K`
 * is the global average of stage K's output feature map (K from 1, the paper's stage numbering
 * after the stem: the output of timm's `blocks.{K-1}`, its last block), for probing earlier,
 * less class-specific features. The averaging runs in the core's pooling kernel, like the head's.
 */
import type { EfficientNet } from '../efficientnet.js';
import { ConfigError } from '../errors.js';
import type { NetworkSpec } from '../arch/network.js';
import { instantiateCore, type CoreExports } from '../runtime/wasm.js';

export type Layer = { readonly kind: 'pooled' } | { readonly kind: 'stage'; readonly stage: number; readonly module: string; readonly channels: number };

export function parseLayer(text: string | undefined, network: NetworkSpec): Layer {
  if (text === undefined || text === 'pooled') return { kind: 'pooled' };
  const stages = Math.max(...network.blocks.map((b) => b.stage)) + 1;
  const match = /^stage-(\d+)$/.exec(text);
  const stage = match ? Number(match[1]) : NaN;
  if (!match || stage < 1 || stage > stages) {
    throw new ConfigError(`--layer must be pooled or stage-K with K from 1 to ${stages}, got "${text}"`);
  }
  const last = network.blocks.filter((b) => b.stage === stage - 1).at(-1)!;
  return { kind: 'stage', stage, module: last.name, channels: last.outChannels };
}

export const layerName = (layer: Layer): string => (layer.kind === 'pooled' ? 'pooled' : `stage-${layer.stage}`);

export const layerDim = (layer: Layer, net: EfficientNet): number => (layer.kind === 'pooled' ? net.featureChannels : layer.channels);

interface PoolCore extends CoreExports {
  heap_base(): number;
  global_average_pool(input: number, n: number, spatial: number, channels: number, output: number): void;
}

/** Global average pooling on a core instance of its own: NHWC `[n, h, w, c]` in, `[n, c]` out. */
async function createPooler(): Promise<(data: Float32Array, shape: readonly number[]) => Float32Array> {
  const core = (await instantiateCore()) as PoolCore;
  const base = Math.ceil(Number(core.heap_base()) / 16) * 16;
  return (data, shape) => {
    const [n, h, w, c] = shape;
    const output = base + Math.ceil(data.byteLength / 16) * 16;
    const end = output + n * c * 4;
    if (end > core.memory.buffer.byteLength) core.memory.grow(Math.ceil((end - core.memory.buffer.byteLength) / 65536));
    new Float32Array(core.memory.buffer, base, data.length).set(data); // [n, h, w, c]
    core.global_average_pool(base, n, h * w, c, output);
    return new Float32Array(core.memory.buffer, output, n * c).slice(); // [n, c]
  };
}

/** Runs batches `[n, 3, size, size]` and returns each image's vector, `[n, dim]`. */
export async function createRowEmbedder(net: EfficientNet, layer: Layer): Promise<(input: Float32Array, n: number) => Promise<Float32Array>> {
  const size = net.recipe.size;
  if (layer.kind === 'pooled') return async (input, n) => (await net.forward(input, [n, 3, size, size])).features;
  const pool = await createPooler();
  return async (input, n) => {
    let rows: Float32Array | null = null;
    await net.forward(input, [n, 3, size, size], {
      onCheckpoint: (checkpoint, data, shape) => {
        if (checkpoint.module === layer.module) rows = pool(data, shape);
      },
    });
    if (rows === null) throw new ConfigError(`the network produced no output for ${layer.module}`);
    return rows;
  };
}
