/**
 * One network, left to right: input, stem, each stage, head, classifier. A box's height is
 * proportional to the side of the feature map it outputs, its width to the square root of its
 * channels (so 16 and 1280 channels both stay visible). MBConv stages are orange and fused-MBConv
 * stages yellow, both with a dashed outline at their expanded width; depthwise-separable stages
 * (MBConv1) are plain blue boxes and conv-bn-act stages grey. Every label is derived from the
 * `NetworkSpec` that `buildNetwork` returns.
 */
import { convOutputSize, type BlockSpec, type NetworkSpec } from '../arch/network.js';
import { SE_RATIO } from '../arch/stages.js';
import type { BlockKind } from '../arch/topology.js';
import { variantTitle } from '../arch/variants.js';
import { summarizeNetwork } from '../arch/summary.js';
import { ConfigError } from '../errors.js';
import { PALETTE } from './palette.js';
import { formatCount, formatGrouped } from './scales.js';
import { element, estimateTextWidth, svgDocument, textLines, type SvgElement } from './svg.js';

type ColumnRole = 'input' | 'stem' | 'stage' | 'head' | 'classifier';

/** One drawn column: a tensor the network produces, and how it was produced. */
interface Column {
  /** `input`, `conv_stem`, `blocks.{i}`, `conv_head` or `classifier`: the group's `data-column`. */
  readonly id: string;
  readonly role: ColumnRole;
  /** The stage's blocks, for stage columns. */
  readonly blocks: readonly BlockSpec[];
  readonly channels: number;
  /** Widest expanded width inside an MBConv stage, drawn as a dashed outline; null otherwise. */
  readonly expandedChannels: number | null;
  /** Side of the square output map. */
  readonly side: number;
  readonly lines: readonly string[];
  /** The sentence a screen reader or a tooltip gives for this column. */
  readonly summary: string;
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;
const square = (side: number): string => `${side}×${side}`;
const range = (values: readonly number[]): string => {
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return low === high ? String(low) : `${low}–${high}`;
};

/** `MBConv6` for an expansion ratio of 6 (`MBConv1` is the depthwise-separable block), `FusedMBConv4`, `Conv3×3`. */
function blockTypeName(block: BlockSpec): string {
  if (block.kind === 'fused-mbconv') return `FusedMBConv${block.expandRatio}`;
  if (block.kind === 'conv-bn-act') return `Conv${block.kernel}×${block.kernel}`;
  return `MBConv${block.expandRatio}`;
}

/** What each block kind is, in a few words. */
const KIND_DESCRIPTION: Readonly<Record<BlockKind, string>> = {
  'conv-bn-act': 'conv, BN, activation',
  'depthwise-separable': 'depthwise-separable',
  mbconv: 'inverted residual',
  'fused-mbconv': 'fused inverted residual',
};

/** Blocks that widen their input inside, drawn with a dashed outline at the expanded width. */
const expands = (kind: BlockKind): boolean => kind === 'mbconv' || kind === 'fused-mbconv';
/** The kxk conv of a block: depthwise, or full in conv-bn-act and fused-MBConv blocks. */
const spatialConvName = (kind: BlockKind): string => (kind === 'mbconv' || kind === 'depthwise-separable' ? 'depthwise' : 'conv');

function stageColumn(blocks: readonly BlockSpec[], side: number): Column {
  const first = blocks[0];
  const last = blocks[blocks.length - 1];
  const withSe = blocks.some((b) => b.seChannels > 0);
  const residuals = blocks.filter((b) => b.residual).length;
  const expanding = expands(first.kind);
  const id = `blocks.${first.stage}`;
  return {
    id,
    role: 'stage',
    blocks,
    channels: last.outChannels,
    expandedChannels: expanding ? Math.max(...blocks.map((b) => b.expandedChannels)) : null,
    side,
    lines: [
      id,
      `${blockTypeName(first)}${withSe ? ' + SE' : ''}`,
      `${first.kernel}×${first.kernel}, stride ${first.stride}`,
      plural(blocks.length, 'block'),
      `${last.outChannels} ch, ${square(side)}`,
    ],
    summary: `${id} (stage ${first.stage + 1}): ${plural(blocks.length, `${blockTypeName(first)} block`)} ` +
      `(${KIND_DESCRIPTION[first.kind]}), ${first.kernel}×${first.kernel} ${spatialConvName(first.kind)}, ` +
      `stride ${first.stride} in the first block; ${first.inChannels} to ${last.outChannels} channels` +
      (expanding ? `, expanded to ${range(blocks.map((b) => b.expandedChannels))} inside` : '') +
      (withSe ? `; squeeze-and-excitation to ${range(blocks.map((b) => b.seChannels))} channels` : '') +
      `; ${plural(residuals, 'residual add')}; output ${last.outChannels}×${square(side)}.`,
  };
}

/** The columns of a network for a square input of side `resolution`, in execution order. */
function networkColumns(network: NetworkSpec, resolution: number): Column[] {
  const columns: Column[] = [{
    id: 'input', role: 'input', blocks: [], channels: 3, expandedChannels: null, side: resolution,
    lines: ['input', 'RGB image', '', '', `3 ch, ${square(resolution)}`],
    summary: `Input: an RGB image, 3×${square(resolution)}.`,
  }];
  const { stem } = network;
  let side = convOutputSize(resolution, stem.stride);
  columns.push({
    id: 'conv_stem', role: 'stem', blocks: [], channels: network.stemChannels, expandedChannels: null, side,
    lines: ['conv_stem', `conv ${stem.kernel}×${stem.kernel}`, `stride ${stem.stride}`, '', `${network.stemChannels} ch, ${square(side)}`],
    summary: `Stem: ${stem.kernel}×${stem.kernel} convolution, stride ${stem.stride}, BN and ${stem.activation}; output ${network.stemChannels}×${square(side)}.`,
  });
  const stages = [...new Set(network.blocks.map((b) => b.stage))];
  for (const stage of stages) {
    const blocks = network.blocks.filter((b) => b.stage === stage);
    for (const block of blocks) side = convOutputSize(side, block.stride);
    columns.push(stageColumn(blocks, side));
  }
  columns.push({
    id: 'conv_head', role: 'head', blocks: [], channels: network.headChannels, expandedChannels: null, side,
    lines: ['conv_head', 'conv 1×1', 'stride 1', '', `${network.headChannels} ch, ${square(side)}`],
    summary: `Head: 1×1 convolution, BN and ${network.head.activation}; output ${network.headChannels}×${square(side)}.`,
  });
  columns.push({
    id: 'classifier', role: 'classifier', blocks: [], channels: network.numClasses, expandedChannels: null, side: 1,
    lines: ['classifier', 'avg pool', '+ linear', '', `${network.numClasses} classes`],
    summary: `Global average pool to ${network.headChannels} features, then a linear classifier to ${network.numClasses} logits.`,
  });
  return columns;
}

const MAX_BOX_HEIGHT = 150;
const MAX_BOX_WIDTH = 88;
/** Thinnest box drawn, so a 7×7 map or a 3-channel image is still a visible stroke. */
const MIN_BOX = 3;
const COLUMN_GAP = 20;
const MARGIN = 24;
const FONT_SIZE = 11;
const LINE_HEIGHT = 15;
const SE_BADGE_RADIUS = 9;

function columnFill(column: Column): string {
  if (column.role === 'input') return PALETTE.image;
  if (column.role !== 'stage') return PALETTE.plainConv;
  const fills: Readonly<Record<BlockKind, string>> = {
    mbconv: PALETTE.mbconv, 'fused-mbconv': PALETTE.fusedMbconv, 'depthwise-separable': PALETTE.depthwiseSeparable, 'conv-bn-act': PALETTE.plainConv,
  };
  return fills[column.blocks[0].kind];
}

/** A stage box: rounded for (fused) MBConv, square-cornered otherwise; solid outline. */
function box(column: Column, x: number, y: number, width: number, height: number): SvgElement {
  const rounded = column.role === 'stage' && expands(column.blocks[0].kind);
  return element('rect', {
    class: 'box', x: x - width / 2, y: y - height / 2, width, height, rx: rounded ? Math.min(4, height / 2) : undefined,
    fill: columnFill(column), stroke: PALETTE.ink, 'stroke-width': 1,
  });
}

function halo(x: number, y: number, width: number, height: number, colour: string): SvgElement {
  return element('rect', {
    class: 'expanded', x: x - width / 2, y: y - height / 2 - 2, width, height: height + 4,
    fill: 'none', stroke: colour, 'stroke-width': 1.5, 'stroke-dasharray': '4 2',
  });
}

function seBadge(x: number, y: number): SvgElement {
  return element('g', { class: 'se' },
    element('circle', { cx: x, cy: y, r: SE_BADGE_RADIUS, fill: PALETTE.squeezeExcite }),
    element('text', { x, y: y + 3, 'text-anchor': 'middle', 'font-size': 8, 'font-weight': 'bold', fill: '#ffffff' }, 'SE'));
}

interface LegendEntry {
  readonly swatch: SvgElement;
  readonly text: string;
}

function legendEntries(network: NetworkSpec): LegendEntry[] {
  const entries: LegendEntry[] = [];
  const seen = new Set<string>();
  for (const block of network.blocks) {
    const name = blockTypeName(block);
    if (seen.has(name)) continue;
    seen.add(name);
    const se = block.seChannels > 0 ? 'SE, ' : '';
    const act = block.activation;
    const outlined = (fill: string): SvgElement => element('g', {},
      element('rect', { x: 0, y: -8, width: 22, height: 12, fill: 'none', stroke: fill, 'stroke-width': 1.5, 'stroke-dasharray': '4 2' }),
      element('rect', { x: 5, y: -6, width: 12, height: 8, rx: 3, fill, stroke: PALETTE.ink }));
    const plain = (fill: string): SvgElement => element('rect', { x: 5, y: -6, width: 12, height: 8, fill, stroke: PALETTE.ink });
    switch (block.kind) {
      case 'mbconv':
        entries.push({
          swatch: outlined(PALETTE.mbconv),
          text: `${name} (inverted residual): 1×1 expand to ${block.expandRatio}× the channels, depthwise k×k, ${se}1×1 project; ` +
            'dashed outline: the expanded width',
        });
        break;
      case 'fused-mbconv':
        entries.push({
          swatch: outlined(PALETTE.fusedMbconv),
          text: `${name} (fused inverted residual): full k×k conv expanding to ${block.expandRatio}× the channels, ${se}1×1 project; ` +
            'dashed outline: the expanded width',
        });
        break;
      case 'depthwise-separable':
        entries.push({ swatch: plain(PALETTE.depthwiseSeparable), text: `${name} (depthwise-separable): depthwise k×k, ${se}1×1 project; no expand conv` });
        break;
      case 'conv-bn-act':
        entries.push({ swatch: plain(PALETTE.plainConv), text: `${name}: one full k×k conv, BN and ${act}, added to its input when shapes match` });
        break;
    }
  }
  entries.push({
    swatch: element('rect', { x: 5, y: -6, width: 12, height: 8, fill: PALETTE.plainConv, stroke: PALETTE.ink }),
    text: 'plain convolution (stem, head) and the classifier',
  });
  if (network.blocks.some((b) => b.seChannels > 0)) {
    entries.push({
      swatch: seBadge(11, -2),
      text: `squeeze-and-excitation: a channel gate through a bottleneck of ${SE_RATIO} × the block's input channels`,
    });
  }
  entries.push({
    swatch: element('g', {}),
    text: 'box height ∝ feature-map side; box width ∝ √channels',
  });
  return entries;
}

function titleOf(network: NetworkSpec, resolution: number): string {
  const { width, depth } = network.coefficients;
  const name = network.name === 'custom'
    ? `EfficientNet (custom: width ×${width}, depth ×${depth})`
    : variantTitle(network.name);
  return `${name} at ${square(resolution)}`;
}

/**
 * The network diagram as a standalone SVG document. `resolution` is the input side in pixels;
 * by default the network's native one.
 */
export function networkDiagram(network: NetworkSpec, resolution = network.coefficients.resolution): string {
  if (!Number.isInteger(resolution) || resolution < 1) {
    throw new ConfigError(`resolution must be a positive integer, got ${resolution}`);
  }
  const columns = networkColumns(network, resolution);
  const summary = summarizeNetwork(network, resolution);
  const widestChannels = Math.max(...columns.map((c) => Math.max(c.channels, c.expandedChannels ?? 0)));
  const boxWidth = (channels: number): number => Math.max(MIN_BOX, MAX_BOX_WIDTH * Math.sqrt(channels / widestChannels));
  const boxHeight = (side: number): number => Math.max(MIN_BOX, (MAX_BOX_HEIGHT * side) / resolution);
  const outerWidth = (c: Column): number => boxWidth(Math.max(c.channels, c.expandedChannels ?? 0));

  const legend = legendEntries(network);
  const legendTop = 76;
  const badgeY = legendTop + legend.length * 18 + 14;
  const middle = badgeY + SE_BADGE_RADIUS + 10 + MAX_BOX_HEIGHT / 2;
  const labelTop = middle + MAX_BOX_HEIGHT / 2 + 24;

  const widths = columns.map((c) => Math.max(outerWidth(c), ...c.lines.map((l) => estimateTextWidth(l, FONT_SIZE))) + COLUMN_GAP);
  const centres: number[] = [];
  let cursor = MARGIN;
  for (const w of widths) {
    centres.push(cursor + w / 2);
    cursor += w;
  }
  const legendWidth = Math.max(...legend.map((e) => 30 + estimateTextWidth(e.text, FONT_SIZE)));
  const width = Math.max(cursor, MARGIN + legendWidth) + MARGIN;
  const height = labelTop + 4 * LINE_HEIGHT + MARGIN;

  const arrows = columns.slice(1).map((c, i) => element('line', {
    x1: centres[i] + outerWidth(columns[i]) / 2 + 3, y1: middle,
    x2: centres[i + 1] - outerWidth(c) / 2 - 3, y2: middle,
    stroke: PALETTE.ink, 'stroke-width': 1.2, 'marker-end': 'url(#network-arrow)',
  }));

  const groups = columns.map((column, i) => {
    const x = centres[i];
    const h = boxHeight(column.side);
    const marks: SvgElement[] = [];
    if (column.expandedChannels !== null) marks.push(halo(x, middle, boxWidth(column.expandedChannels), h, columnFill(column)));
    marks.push(box(column, x, middle, boxWidth(column.channels), h));
    if (column.blocks.some((b) => b.seChannels > 0)) marks.push(seBadge(x, badgeY));
    return element('g', {
      class: column.role === 'stage' ? `stage ${column.blocks[0].kind}` : column.role,
      'data-column': column.id,
    },
    element('title', {}, column.summary),
    ...marks,
    textLines(x, labelTop, column.lines, LINE_HEIGHT, { 'text-anchor': 'middle', 'font-size': FONT_SIZE, fill: PALETTE.ink }));
  });

  return svgDocument({
    id: 'network',
    width,
    height,
    title: titleOf(network, resolution),
    description: `${columns.map((c) => c.summary).join(' ')} In total ${formatGrouped(summary.params)} parameters and ` +
      `${formatGrouped(summary.macs)} multiply-adds per image.`,
    body: [
      element('defs', {},
        element('marker', { id: 'network-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' },
          element('path', { d: 'M0,0 L10,5 L0,10 z', fill: PALETTE.ink }))),
      element('text', { x: MARGIN, y: 30, 'font-size': 18, 'font-weight': 'bold', fill: PALETTE.ink }, titleOf(network, resolution)),
      element('text', { x: MARGIN, y: 50, fill: PALETTE.muted },
        `${formatCount(summary.params)} parameters · ${formatCount(summary.macs)} multiply-adds per image · ` +
        `${plural(network.blocks.length, 'block')} in ${plural(columns.filter((c) => c.role === 'stage').length, 'stage')}`),
      element('g', { class: 'legend', 'font-size': FONT_SIZE, fill: PALETTE.ink },
        ...legend.map((entry, i) => element('g', { transform: `translate(${MARGIN} ${legendTop + i * 18})` },
          entry.swatch, element('text', { x: 30, y: 2 }, entry.text)))),
      ...arrows,
      ...groups,
    ],
  });
}
