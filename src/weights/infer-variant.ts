/**
 * What a timm-named weights file says about its own network: the stem and head widths, the blocks
 * per stage and the classifier's classes, read from the shapes alone, and the variant of the
 * family those match, if any. Used to say which variant a mismatched file is, and by `inspect`.
 */
import { buildNetwork } from '../arch/network.js';
import type { VariantName } from '../arch/variants.js';
import type { WeightSource } from './source.js';

/** The variants compared against, smallest first. */
const FAMILY: readonly VariantName[] = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'l2'];

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
  const variant = FAMILY.find((name) => {
    const network = buildNetwork(name);
    const perStage: number[] = [];
    for (const block of network.blocks) perStage[block.stage] = block.index + 1;
    return network.stemChannels === stemChannels && network.headChannels === headChannels &&
      perStage.length === counts.length && perStage.every((count, stage) => count === counts[stage]);
  }) ?? null;
  return { stemChannels, headChannels, blocksPerStage: counts, classes, variant };
}

/** One phrase for messages: "EfficientNet-B1 (stem 32, head 1280, blocks per stage 1, 2, ...)". */
export function describeShape(shape: InferredShape): string {
  const what = shape.variant ? `EfficientNet-${shape.variant.toUpperCase()}` : 'no variant of B0 … B8, L2';
  return `${what} (stem ${shape.stemChannels ?? '?'}, head ${shape.headChannels ?? '?'}, blocks per stage ${shape.blocksPerStage.join(', ') || 'none'})`;
}
