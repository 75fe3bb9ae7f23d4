/**
 * One network, left to right: input, stem, each stage, head, classifier, wrapped into rows so the
 * figure is at most 800 px wide (a README's width) and every label is drawn at 11 px or more. A
 * box's height falls by one equal step each time the feature map's side halves (a log scale, so
 * the 7×7 stages stay boxes rather than lines), its width grows with the square root of its
 * channels, and no box is smaller than a minimum a reader can see. MBConv stages are orange and fused-MBConv
 * stages yellow, both with a dashed outline at their expanded width; depthwise-separable stages
 * (MBConv1) are plain blue boxes and conv-bn-act stages grey. Every label is derived from the
 * `NetworkSpec` that `buildNetwork` returns.
 */
import { convOutputSize, type BlockSpec, type NetworkSpec } from '../arch/network.js';
import { SE_RATIO } from '../arch/stages.js';
import type { BlockKind } from '../arch/topology.js';
import { summarizeNetwork } from '../arch/summary.js';
import { ConfigError } from '../errors.js';
import { blockTypeName, KIND_DESCRIPTION, networkName } from './block-names.js';
import { PALETTE } from './palette.js';
import { formatCount, formatGrouped } from './scales.js';
import { element, estimateTextWidth, formatNumber, svgDocument, textLines, wrapText, type SvgElement } from './svg.js';

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

/** The widest figure: what a README shows a figure at without scaling it down. */
export const MAX_FIGURE_WIDTH = 800;
const MAX_BOX_HEIGHT = 120;
/** Smallest box drawn, so a 7×7 map or a 3-channel image is still a box a reader can see and hover. */
export const MIN_BOX_HEIGHT = 18;
export const MIN_BOX_WIDTH = 12;
const MAX_BOX_WIDTH = 72;
const COLUMN_GAP = 18;
const ROW_GAP = 26;
const MARGIN = 20;
const FONT_SIZE = 12;
const LINE_HEIGHT = 16;
const SE_BADGE_RADIUS = 11;
/** Lines of text under every box (an empty line keeps its slot). */
const LABEL_LINES = 5;

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
    element('text', { x, y: y + 4, 'text-anchor': 'middle', 'font-size': 11, 'font-weight': 'bold', fill: '#ffffff' }, 'SE'));
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
    text: `box height: feature-map side, one equal step lower per halving (log scale); box width ∝ √channels; ` +
      `no box under ${MIN_BOX_WIDTH}×${MIN_BOX_HEIGHT} px`,
  });
  return entries;
}

function titleOf(network: NetworkSpec, resolution: number): string {
  return `${networkName(network)} at ${square(resolution)}`;
}

/** A column placed in the figure: its centre, its slot's width (box or labels, plus the gap) and its row. */
interface Placed {
  readonly column: Column;
  readonly x: number;
  readonly slot: number;
  readonly row: number;
}

/** Columns left to right, starting a new row whenever the next would pass `width`. */
function placeColumns(columns: readonly Column[], slots: readonly number[], width: number): Placed[] {
  const placed: Placed[] = [];
  let row = 0;
  let cursor = 0;
  columns.forEach((column, i) => {
    if (cursor > 0 && cursor + slots[i] > width) {
      row++;
      cursor = 0;
    }
    placed.push({ column, x: MARGIN + cursor + slots[i] / 2, slot: slots[i], row });
    cursor += slots[i];
  });
  return placed;
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
  const boxWidth = (channels: number): number => Math.max(MIN_BOX_WIDTH, MAX_BOX_WIDTH * Math.sqrt(channels / widestChannels));
  // Sides of the maps drawn (the classifier's 1×1 is a vector, drawn at the smallest height).
  const sides = columns.filter((c) => c.role !== 'classifier').map((c) => c.side);
  const [smallest, largest] = [Math.min(...sides), Math.max(...sides)];
  const halvings = Math.log2(largest / smallest);
  const boxHeight = (side: number): number => (halvings === 0 ? MAX_BOX_HEIGHT
    : MIN_BOX_HEIGHT + ((MAX_BOX_HEIGHT - MIN_BOX_HEIGHT) * Math.log2(Math.max(side, smallest) / smallest)) / halvings);
  const outerWidth = (c: Column): number => boxWidth(Math.max(c.channels, c.expandedChannels ?? 0));

  const contentWidth = MAX_FIGURE_WIDTH - 2 * MARGIN;
  const slots = columns.map((c) => Math.max(outerWidth(c), ...c.lines.map((l) => estimateTextWidth(l, FONT_SIZE))) + COLUMN_GAP);
  const placed = placeColumns(columns, slots, contentWidth);
  const rowCount = placed[placed.length - 1].row + 1;
  const rowWidths = Array.from({ length: rowCount }, (_, r) => placed.filter((p) => p.row === r).reduce((sum, p) => sum + p.slot, 0));

  const subtitle = wrapText(`${formatCount(summary.params)} parameters · ${formatCount(summary.macs)} multiply-adds per image · ` +
    `${plural(network.blocks.length, 'block')} in ${plural(columns.filter((c) => c.role === 'stage').length, 'stage')}`, FONT_SIZE, contentWidth);
  const legend = legendEntries(network).map((entry) => ({ ...entry, lines: wrapText(entry.text, FONT_SIZE, contentWidth - 30) }));
  const legendTop = 50 + subtitle.length * LINE_HEIGHT + 8;
  const legendOffsets = legend.map((_, i) => legend.slice(0, i).reduce((sum, e) => sum + e.lines.length * LINE_HEIGHT + 4, 0));
  const legendHeight = legend.reduce((sum, e) => sum + e.lines.length * LINE_HEIGHT + 4, 0);

  // Each row: SE badges on top, boxes centred on one line, labels below.
  const rows: { middle: number; badgeY: number; labelTop: number; bottom: number }[] = [];
  let top = legendTop + legendHeight + 10;
  for (let r = 0; r < rowCount; r++) {
    const tallest = Math.max(...placed.filter((p) => p.row === r).map((p) => (p.column.role === 'classifier' ? MIN_BOX_HEIGHT : boxHeight(p.column.side))));
    const badgeY = top + SE_BADGE_RADIUS;
    const middle = badgeY + SE_BADGE_RADIUS + 8 + tallest / 2;
    const labelTop = middle + tallest / 2 + 6 + LINE_HEIGHT;
    const bottom = labelTop + (LABEL_LINES - 1) * LINE_HEIGHT + 6;
    rows.push({ middle, badgeY, labelTop, bottom });
    top = bottom + ROW_GAP;
  }
  const titleWidth = estimateTextWidth(titleOf(network, resolution), 18);
  const textWidth = Math.max(titleWidth, ...subtitle.map((l) => estimateTextWidth(l, FONT_SIZE)),
    ...legend.flatMap((e) => e.lines.map((l) => 30 + estimateTextWidth(l, FONT_SIZE))));
  // Whole pixels, so a browser lays the figure out at exactly its drawn size (no scaling by a hair).
  const width = Math.ceil(Math.max(...rowWidths, textWidth) + 2 * MARGIN);
  const height = Math.ceil(rows[rows.length - 1].bottom + MARGIN);

  const heightOf = (c: Column): number => (c.role === 'classifier' ? MIN_BOX_HEIGHT : boxHeight(c.side));
  const arrows = placed.slice(1).map((to, i) => {
    const from = placed[i];
    const attributes = { stroke: PALETTE.ink, 'stroke-width': 1.2, 'marker-end': 'url(#network-arrow)', fill: 'none' };
    const start = from.x + outerWidth(from.column) / 2 + 3;
    const end = to.x - outerWidth(to.column) / 2 - 3;
    if (from.row === to.row) {
      return element('line', { class: 'flow', x1: start, y1: rows[from.row].middle, x2: end, y2: rows[to.row].middle, ...attributes });
    }
    // To the next row: out right, down past the labels, back to the left margin, down, and in.
    const right = from.x + from.slot / 2;
    const between = rows[from.row].bottom + ROW_GAP / 2;
    const left = MARGIN / 2;
    const points = [[start, rows[from.row].middle], [right, rows[from.row].middle], [right, between], [left, between],
      [left, rows[to.row].middle], [end, rows[to.row].middle]].map(([x, y]) => `${formatNumber(x)},${formatNumber(y)}`);
    return element('polyline', { class: 'flow wrap', points: points.join(' '), ...attributes });
  });

  const groups = placed.map(({ column, x, row }) => {
    const { middle, badgeY, labelTop } = rows[row];
    const h = heightOf(column);
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
      ...subtitle.map((line, i) => element('text', { x: MARGIN, y: 50 + i * LINE_HEIGHT, fill: PALETTE.muted }, line)),
      element('g', { class: 'legend', 'font-size': FONT_SIZE, fill: PALETTE.ink },
        ...legend.map((entry, i) => element('g', { transform: `translate(${MARGIN} ${legendTop + legendOffsets[i]})` },
          entry.swatch, ...entry.lines.map((line, k) => element('text', { x: 30, y: 2 + k * LINE_HEIGHT }, line))))),
      ...arrows,
      ...groups,
    ],
  });
}
