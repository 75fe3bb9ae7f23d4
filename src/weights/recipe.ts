/**
 * Which checkpoint tensors become which packed tensor in the core. A conv followed by BN is
 * stored once, with the BN folded in (w' = w * gamma / sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps));
 * SE convs and the classifier keep their own biases.
 */
import { networkLayers, type LayerSpec } from '../arch/layers.js';
import type { NetworkSpec } from '../arch/network.js';

/** How the core wants a tensor laid out: one packing routine per kernel family. */
export type Packing = 'conv2d' | 'depthwise' | 'gemm' | 'se';

export interface FoldedTensor {
  /** Module name of the conv or linear layer, e.g. `blocks.1.0.conv_pw`. */
  readonly layer: string;
  /** BN folded into it (its `weight`, `bias`, `running_mean`, `running_var`), or null. */
  readonly bn: string | null;
  /** Tensor holding the layer's own bias (SE convs, classifier), or null. */
  readonly bias: string | null;
  readonly packing: Packing;
  /** Source shape in PyTorch layout. */
  readonly shape: readonly number[];
  readonly outChannels: number;
  /** Input channels per group (1 for depthwise). */
  readonly inChannels: number;
  readonly kernel: number;
}

function packingFor(layer: LayerSpec): Packing {
  switch (layer.op) {
    case 'conv': return 'conv2d';
    case 'dwconv': return 'depthwise';
    case 'se_reduce':
    case 'se_expand': return 'se';
    default: return 'gemm';
  }
}

/** The folded tensors of a network, in checkpoint order. */
export function foldingRecipe(network: NetworkSpec): FoldedTensor[] {
  const layers = networkLayers(network, 32);
  const recipe: FoldedTensor[] = [];
  layers.forEach((layer, i) => {
    if (layer.op === 'bn' || layer.op === 'pool') return;
    const next = layers[i + 1];
    const foldsBn = next?.op === 'bn' && (layer.op === 'conv' || layer.op === 'dwconv' || layer.op === 'pwconv');
    const weight = layer.tensors.find((t) => t.name === `${layer.name}.weight`)!;
    const ownBias = layer.tensors.find((t) => t.name === `${layer.name}.bias`);
    recipe.push({
      layer: layer.name,
      bn: foldsBn ? next.name : null,
      bias: ownBias ? ownBias.name : null,
      packing: packingFor(layer),
      shape: weight.shape,
      outChannels: weight.shape[0],
      inChannels: weight.shape[1],
      kernel: weight.shape.length === 4 ? weight.shape[2] : 1,
    });
  });
  return recipe;
}
