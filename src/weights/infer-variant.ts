/**
 * What a timm-named weights file says about its own network: the stem and head widths, the blocks
 * per stage and the classifier's classes, read from the shapes alone, and the variant of the
 * family those match, if any. Used to say which variant a mismatched file is, and by `inspect`.
 */
import { expectedTensors } from '../arch/layers.js';
import { buildNetwork } from '../arch/network.js';
import { VARIANT_NAMES, variantTitle, type VariantName } from '../arch/variants.js';
import { ignoreBatchNormCounters } from './match.js';
import type { WeightSource } from './source.js';

export interface InferredShape {
  readonly stemChannels: number | null;
  readonly headChannels: number | null;
  /** Blocks per stage, in stage order. */
  readonly blocksPerStage: readonly number[];
  /** Classifier rows; 0 when the file has no classifier (a feature extractor). */
  readonly classes: number;
  /** The family member whose stem, head and block counts all match, or null. */
  readonly variant: VariantName | null;
}

const BLOCK = /^blocks\.(\d+)\.(\d+)\./;

export function inferShape(source: WeightSource): InferredShape {
  const stemChannels = source.tensors.get('conv_stem.weight')?.shape[0] ?? null;
  const headChannels = source.tensors.get('conv_head.weight')?.shape[0] ?? null;
  const counts: number[] = [];
  for (const name of source.tensors.keys()) {
    const match = BLOCK.exec(name);
    if (!match) continue;
    const stage = Number(match[1]);
    const index = Number(match[2]);
    // Stage indices come from the file: cap them so a hostile name cannot make a huge array.
    if (stage > 64) continue;
    while (counts.length <= stage) counts.push(0);
    counts[stage] = Math.max(counts[stage], index + 1);
  }
  const classifier = source.tensors.get('classifier.weight')?.shape;
  const classes = classifier && classifier.length === 2 ? classifier[0] : 0;
  const variant = VARIANT_NAMES.find((name) => {
    const network = buildNetwork(name, classes);
    const perStage: number[] = [];
    for (const block of network.blocks) perStage[block.stage] = block.index + 1;
    // Stem, head and block counts are a cheap filter; members that share them (B0 and Lite0, the
    // V2 B-sizes) differ in their blocks' tensors, so the survivors are compared tensor by tensor.
    return network.stemChannels === stemChannels && network.headChannels === headChannels &&
      perStage.length === counts.length && perStage.every((count, stage) => count === counts[stage]) &&
      holdsExactly(source, network);
  }) ?? null;
  return { stemChannels, headChannels, blocksPerStage: counts, classes, variant };
}

/**
 * True when the file holds every tensor of the network with its shape, and no block tensor the
 * network lacks (a B0 file holds all of Lite0's tensors plus the SE layers). Tensors outside the
 * blocks that the network does not use (a training counter, an extra head) are tolerated.
 */
function holdsExactly(source: WeightSource, network: ReturnType<typeof buildNetwork>): boolean {
  const expected = expectedTensors(network);
  const inBlocks = (name: string): boolean => name.startsWith('blocks.') && !ignoreBatchNormCounters(name);
  const presentBlockTensors = [...source.tensors.keys()].filter(inBlocks).length;
  if (presentBlockTensors !== expected.filter(({ name }) => inBlocks(name)).length) return false;
  return expected.every(({ name, shape }) => {
    const actual = source.tensors.get(name)?.shape;
    return actual !== undefined && actual.length === shape.length && actual.every((d, i) => d === shape[i]);
  });
}

/** One phrase for messages: "EfficientNet-B1 (stem 32, head 1280, blocks per stage 1, 2, ...)". */
export function describeShape(shape: InferredShape): string {
  const what = shape.variant ? variantTitle(shape.variant) : 'no member of the family';
  return `${what} (stem ${shape.stemChannels ?? '?'}, head ${shape.headChannels ?? '?'}, blocks per stage ${shape.blocksPerStage.join(', ') || 'none'})`;
}
