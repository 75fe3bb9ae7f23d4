/**
 * The names figures give blocks: the block type papers use (`MBConv6`, `FusedMBConv4`) and what
 * each kind computes in a few words. The network diagram and the block diagram share them, so a
 * block is called the same in both.
 */
import type { BlockSpec, NetworkSpec } from '../arch/network.js';
import type { BlockKind } from '../arch/topology.js';
import { variantTitle } from '../arch/variants.js';

/** `MBConv6` for an expansion ratio of 6 (`MBConv1` is the depthwise-separable block), `FusedMBConv4`, `Conv3×3`. */
export function blockTypeName(block: BlockSpec): string {
  if (block.kind === 'fused-mbconv') return `FusedMBConv${block.expandRatio}`;
  if (block.kind === 'conv-bn-act') return `Conv${block.kernel}×${block.kernel}`;
  return `MBConv${block.expandRatio}`;
}

/** What each block kind is, in a few words. */
export const KIND_DESCRIPTION: Readonly<Record<BlockKind, string>> = {
  'conv-bn-act': 'conv, BN, activation',
  'depthwise-separable': 'depthwise-separable',
  mbconv: 'inverted residual',
  'fused-mbconv': 'fused inverted residual',
};

/** `EfficientNet-B0`, or the custom coefficients for a network outside the table. */
export function networkName(network: NetworkSpec): string {
  // Compound multipliers are powers (1.1² is 1.2100000000000002 in doubles): three decimals say them.
  const multiplier = (value: number): string => String(Number(value.toFixed(3)));
  const { width, depth } = network.coefficients;
  return network.name === 'custom'
    ? `EfficientNet (custom: width ×${multiplier(width)}, depth ×${multiplier(depth)})`
    : variantTitle(network.name);
}
