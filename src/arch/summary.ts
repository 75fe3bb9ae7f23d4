/**
 * A network's totals and per-layer table, as data: the `summary` command prints it, tests check
 * it against the published numbers.
 */
import { networkLayers, type LayerSpec } from './layers.js';
import type { NetworkSpec } from './network.js';

export interface NetworkSummary {
  readonly variant: string;
  readonly resolution: number;
  readonly layers: readonly LayerSpec[];
  /** Trainable parameters: conv and linear weights and biases, BN gamma and beta. */
  readonly params: number;
  /** Multiply-adds per image of conv, SE and linear layers. */
  readonly macs: number;
  /** Every stored float, BN running statistics included: what a float32 checkpoint holds. */
  readonly storedFloats: number;
}

export function summarizeNetwork(network: NetworkSpec, resolution: number): NetworkSummary {
  const layers = networkLayers(network, resolution);
  let params = 0;
  let macs = 0;
  let storedFloats = 0;
  for (const l of layers) {
    params += l.params;
    macs += l.macs;
    for (const t of l.tensors) storedFloats += t.shape.reduce((a, b) => a * b, 1);
  }
  return { variant: network.name, resolution, layers, params, macs, storedFloats };
}
