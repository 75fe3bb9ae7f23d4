/**
 * Inside one or more blocks, top to bottom: every step `blockWalk` lists, as a box holding timm's
 * module name (or the function, for steps without weights) and what it does, with the tensor shape
 * after it on the right. On the left, two lines skip ahead: the inner one carries the feature map
 * past squeeze-and-excitation's gate branch to the multiply, the outer one the block input to the
 * residual add. Blocks stand side by side, at most two to a row, so the figure stays readable at
 * README width. Every box, label and shape comes from `src/arch` through `blockWalk`.
 */
import type { ChwShape } from '../arch/layers.js';
import type { BlockSpec, NetworkSpec } from '../arch/network.js';
import { blockTypeName, KIND_DESCRIPTION, networkName } from './block-names.js';
import { ACTIVATION_FORMULA, blockWalk, type BlockStep, type BlockStepKind, type BlockWalk } from './block-steps.js';
import { PALETTE } from './palette.js';
import { element, estimateTextWidth, formatNumber, svgDocument, wrapText, type SvgElement } from './svg.js';

const MARGIN = 20;
const TITLE_SIZE = 16;
const FONT_SIZE = 12;
const HEADER_SIZE = 14;
const LINE_HEIGHT = 17;
/** One step per row: a box of BOX_HEIGHT and room for the arrow to the next. */
const ROW_HEIGHT = 34;
const BOX_HEIGHT = 22;
/** Left of the boxes: the residual line's lane, then the SE bypass lane. */
const RESIDUAL_LANE = 8;
const BYPASS_LANE = 22;
const BOX_OFFSET = 36;
const TEXT_PADDING = 7;
const LABEL_GAP = 6;
const SHAPE_GAP = 8;
const COLUMN_GAP = 28;
/** Blocks per row of the figure: two fit in 800 px, the width a README shows a figure at. */
const COLUMNS_PER_ROW = 2;
const ROW_GAP = 24;

const shapeText = ([c, h, w]: ChwShape): string => `${c}×${h}×${w}`;

/** The input and every step, as drawn rows. */
interface Row {
  readonly kind: BlockStepKind | 'input';
  readonly label: string;
  readonly detail: string;
  readonly module: string | null;
  readonly output: ChwShape;
  readonly squeezeExcite: boolean;
}

function rowsOf(walk: BlockWalk): Row[] {
  const first = walk.block.stage === 0 && walk.block.index === 0;
  const input: Row = {
    kind: 'input', label: 'input', detail: first ? 'from the stem' : 'from the previous block', module: null, output: walk.input, squeezeExcite: false,
  };
  return [input, ...walk.steps.map((s: BlockStep): Row => s)];
}

const FUNCTION_KINDS: ReadonlySet<Row['kind']> = new Set(['input', 'activation', 'pool', 'gate', 'multiply', 'add']);

function fillOf(row: Row): string {
  switch (row.kind) {
    case 'pwconv': return PALETTE.mbconv;
    case 'dwconv': return PALETTE.depthwiseSeparable;
    case 'conv': return PALETTE.fusedMbconv;
    case 'bn': return PALETTE.plainConv;
    case 'se_reduce':
    case 'se_expand': return PALETTE.squeezeExciteTint;
    default: return PALETTE.functionFill;
  }
}

/** Widths of a column's parts, from its longest texts. */
interface ColumnMetrics {
  readonly boxWidth: number;
  readonly shapeWidth: number;
  readonly width: number;
}

/** Bold glyphs run wider than `estimateTextWidth`'s average: module names (bold) get this much more room. */
const BOLD_WIDTH = 1.15;
const labelWidth = (row: Row): number => estimateTextWidth(row.label, FONT_SIZE) * (FUNCTION_KINDS.has(row.kind) ? 1 : BOLD_WIDTH);
const boxTextWidth = (row: Row): number =>
  TEXT_PADDING * 2 + labelWidth(row) + (row.detail === '' ? 0 : LABEL_GAP + estimateTextWidth(row.detail, FONT_SIZE));

function headerLines(block: BlockSpec): string[] {
  return [
    `${KIND_DESCRIPTION[block.kind]}, ${block.kernel}×${block.kernel}, stride ${block.stride}`,
    [
      block.seChannels > 0 ? `SE to ${block.seChannels} ch` : 'no SE',
      block.activation,
      block.residual ? 'residual add' : 'no residual add',
    ].join(', '),
  ];
}

const headerTitle = (block: BlockSpec): string => `${block.name} · ${blockTypeName(block)}`;

function columnMetrics(walk: BlockWalk): ColumnMetrics {
  const rows = rowsOf(walk);
  const boxWidth = Math.max(...rows.map(boxTextWidth));
  const shapeWidth = Math.max(...rows.map((r) => estimateTextWidth(shapeText(r.output), FONT_SIZE)));
  const header = Math.max(estimateTextWidth(headerTitle(walk.block), HEADER_SIZE), ...headerLines(walk.block).map((l) => estimateTextWidth(l, FONT_SIZE)));
  return { boxWidth, shapeWidth, width: Math.max(BOX_OFFSET + boxWidth + SHAPE_GAP + shapeWidth, header) };
}

const HEADER_HEIGHT = 3 * LINE_HEIGHT + 10;
const columnHeight = (walk: BlockWalk): number => HEADER_HEIGHT + rowsOf(walk).length * ROW_HEIGHT;

/** A right-angled path with an arrow at its end. */
function connector(className: string, points: readonly (readonly [number, number])[], colour: string): SvgElement {
  return element('polyline', {
    class: className, points: points.map(([x, y]) => `${formatNumber(x)},${formatNumber(y)}`).join(' '),
    fill: 'none', stroke: colour, 'stroke-width': 1.4, 'marker-end': 'url(#block-arrow)',
  });
}

function drawColumn(walk: BlockWalk, metrics: ColumnMetrics, left: number, top: number): SvgElement {
  const { block } = walk;
  const rows = rowsOf(walk);
  const boxLeft = left + BOX_OFFSET;
  const boxCentre = boxLeft + metrics.boxWidth / 2;
  const rowsTop = top + HEADER_HEIGHT;
  const centreOf = (i: number): number => rowsTop + i * ROW_HEIGHT + ROW_HEIGHT / 2;

  const header = element('g', { class: 'header' },
    element('text', { x: left, y: top + 14, 'font-size': HEADER_SIZE, 'font-weight': 'bold', fill: PALETTE.ink }, headerTitle(block)),
    ...headerLines(block).map((line, i) => element('text', { x: left, y: top + 14 + (i + 1) * LINE_HEIGHT, fill: PALETTE.muted }, line)));

  const marks: SvgElement[] = [];
  const seRows = rows.map((r, i) => (r.squeezeExcite ? i : -1)).filter((i) => i >= 0);
  if (seRows.length > 0) {
    const first = seRows[0];
    const last = seRows[seRows.length - 1];
    marks.push(element('rect', {
      class: 'se-branch', x: boxLeft - 5, y: centreOf(first) - BOX_HEIGHT / 2 - 5, width: metrics.boxWidth + 10,
      height: centreOf(last) - centreOf(first) + BOX_HEIGHT + 10, rx: 6, fill: PALETTE.squeezeExciteBackground, stroke: PALETTE.squeezeExcite, 'stroke-width': 1,
      'stroke-dasharray': '3 2',
    }));
    // The feature map goes around the gate branch, from the step before the pooling to the multiply.
    const multiply = rows.findIndex((r, i) => i > last && r.kind === 'multiply');
    marks.push(connector('se-bypass', [
      [boxLeft, centreOf(first - 1)], [left + BYPASS_LANE, centreOf(first - 1)],
      [left + BYPASS_LANE, centreOf(multiply)], [boxLeft - 1, centreOf(multiply)],
    ], PALETTE.squeezeExcite));
  }
  const add = rows.findIndex((r) => r.kind === 'add');
  if (add >= 0) {
    marks.push(connector('residual', [
      [boxLeft, centreOf(0)], [left + RESIDUAL_LANE, centreOf(0)], [left + RESIDUAL_LANE, centreOf(add)], [boxLeft - 1, centreOf(add)],
    ], PALETTE.ink));
  }
  for (let i = 1; i < rows.length; i++) {
    marks.push(element('line', {
      class: 'flow', x1: boxCentre, y1: centreOf(i - 1) + BOX_HEIGHT / 2, x2: boxCentre, y2: centreOf(i) - BOX_HEIGHT / 2 - 1,
      stroke: PALETTE.ink, 'stroke-width': 1.2, 'marker-end': 'url(#block-arrow)',
    }));
  }

  const steps = rows.map((row, i) => {
    const y = centreOf(i);
    const functional = FUNCTION_KINDS.has(row.kind);
    const baseline = y + FONT_SIZE * 0.35;
    const labelX = boxLeft + TEXT_PADDING;
    return element('g', {
      class: `step ${row.kind}${row.squeezeExcite ? ' squeeze-excite' : ''}`,
      'data-label': row.label, 'data-module': row.module ?? undefined, 'data-shape': shapeText(row.output),
    },
    element('title', {}, `${row.module ?? row.label}: ${row.detail === '' ? row.label : row.detail}; output ${shapeText(row.output)}`),
    element('rect', {
      class: 'box', x: boxLeft, y: y - BOX_HEIGHT / 2, width: metrics.boxWidth, height: BOX_HEIGHT,
      rx: functional ? BOX_HEIGHT / 2 : 3, fill: fillOf(row), stroke: row.squeezeExcite ? PALETTE.squeezeExcite : PALETTE.ink, 'stroke-width': 1,
    }),
    // One text element, so the detail follows the label at the renderer's own spacing, whatever the font.
    element('text', { class: 'step-text', x: labelX, y: baseline, fill: PALETTE.ink },
      element('tspan', { class: 'step-label', 'font-weight': functional ? undefined : 'bold' }, row.label),
      ...(row.detail === '' ? [] : [element('tspan', { class: 'step-detail', dx: LABEL_GAP - 4 }, row.detail)])),
    element('text', { class: 'shape', x: boxLeft + metrics.boxWidth + SHAPE_GAP, y: baseline, fill: PALETTE.ink }, shapeText(row.output)));
  });

  return element('g', { class: `block ${block.kind}`, 'data-block': block.name }, header, ...marks, ...steps);
}

interface LegendEntry {
  readonly swatch: SvgElement;
  readonly text: string;
}

function legendEntries(walks: readonly BlockWalk[]): LegendEntry[] {
  const kinds = new Set(walks.flatMap((w) => w.steps.map((s) => s.kind)));
  const swatch = (fill: string, rx: number, stroke: string = PALETTE.ink): SvgElement =>
    element('rect', { x: 0, y: -9, width: 22, height: 12, rx, fill, stroke });
  const entries: LegendEntry[] = [];
  if (kinds.has('pwconv')) entries.push({ swatch: swatch(PALETTE.mbconv, 2), text: '1×1 convolution: expand to more channels, or project back to fewer' });
  if (kinds.has('dwconv')) entries.push({ swatch: swatch(PALETTE.depthwiseSeparable, 2), text: 'k×k depthwise convolution: one filter per channel' });
  if (kinds.has('conv')) entries.push({ swatch: swatch(PALETTE.fusedMbconv, 2), text: 'k×k full convolution over all input channels' });
  if (kinds.has('bn')) entries.push({ swatch: swatch(PALETTE.plainConv, 2), text: 'batch norm (folded into the convolution before it when weights load)' });
  const activations = [...new Set(walks.map((w) => w.block.activation))].map((a) => `${a}(x) = ${ACTIVATION_FORMULA[a]}`).join('; ');
  entries.push({ swatch: swatch(PALETTE.functionFill, 6), text: `a function without weights: activation (${activations}), pooling, gate, multiply, add` });
  if (kinds.has('se_reduce')) {
    entries.push({
      swatch: swatch(PALETTE.squeezeExciteTint, 2, PALETTE.squeezeExcite),
      text: 'squeeze-and-excitation: pool each channel, squeeze, excite, sigmoid; the inner line on the left carries the feature map past it to be multiplied by the gates',
    });
  }
  if (kinds.has('add')) {
    entries.push({
      swatch: element('line', { x1: 0, y1: -3, x2: 22, y2: -3, stroke: PALETTE.ink, 'stroke-width': 1.4 }),
      text: 'the outer line on the left: the block input, added back at the end (residual)',
    });
  }
  return entries;
}

/**
 * Representative blocks of a network for the side-by-side figure: one per block type (`MBConv1`,
 * `MBConv6`, `FusedMBConv4`, ...), in network order, each the first of its type that has a residual
 * add if any does (it shows every step the type can have), else the first of its type. For B0 that
 * is `blocks.0.0` (MBConv1) and `blocks.1.1` (MBConv6).
 */
export function representativeBlocks(network: NetworkSpec): BlockSpec[] {
  const types = [...new Set(network.blocks.map(blockTypeName))];
  return types.map((type) => {
    const ofType = network.blocks.filter((b) => blockTypeName(b) === type);
    return ofType.find((b) => b.residual) ?? ofType[0];
  });
}

/**
 * The block diagram as a standalone SVG document: the named blocks (timm names, `blocks.S.I`) side
 * by side, at most two to a row, with shapes for a square input of side `resolution` (by default
 * the network's native one). An unknown name is refused with a ConfigError listing the valid ones.
 */
export function blockDiagram(network: NetworkSpec, blockNames: readonly string[], resolution = network.coefficients.resolution): string {
  // Every name is checked before anything is drawn.
  const walks = blockNames.map((name) => blockWalk(network, name, resolution));
  if (walks.length === 0) throw new RangeError('blockDiagram needs at least one block name');
  const metrics = walks.map(columnMetrics);
  const rows: number[][] = [];
  walks.forEach((_, i) => {
    if (i % COLUMNS_PER_ROW === 0) rows.push([]);
    rows[rows.length - 1].push(i);
  });
  const slot = Math.max(...metrics.map((m) => m.width));
  const columnsWidth = Math.min(walks.length, COLUMNS_PER_ROW) * (slot + COLUMN_GAP) - COLUMN_GAP;
  const title = `Inside ${networkName(network)} at ${resolution}×${resolution}`;
  const subtitle = "Each step in order, named as in timm's modules, with the tensor shape after it (channels×height×width)";
  const textWidth = Math.max(columnsWidth, estimateTextWidth(title, TITLE_SIZE));
  const subtitleLines = wrapText(subtitle, FONT_SIZE, textWidth);
  const legend = legendEntries(walks).map((entry) => ({ ...entry, lines: wrapText(entry.text, FONT_SIZE, textWidth - 30) }));

  let y = MARGIN + TITLE_SIZE + 4 + subtitleLines.length * LINE_HEIGHT + 16;
  const columns: SvgElement[] = [];
  for (const row of rows) {
    row.forEach((index, k) => columns.push(drawColumn(walks[index], metrics[index], MARGIN + k * (slot + COLUMN_GAP), y)));
    y += Math.max(...row.map((index) => columnHeight(walks[index]))) + ROW_GAP;
  }
  const legendTop = y + 4;
  const legendMarks = legend.map((entry, i) => {
    const top = legendTop + legend.slice(0, i).reduce((sum, e) => sum + e.lines.length * LINE_HEIGHT + 4, 0);
    return element('g', { transform: `translate(${MARGIN} ${top})` },
      entry.swatch,
      ...entry.lines.map((line, k) => element('text', { x: 30, y: k * LINE_HEIGHT }, line)));
  });
  const legendHeight = legend.reduce((sum, e) => sum + e.lines.length * LINE_HEIGHT + 4, 0);
  // Whole pixels, so a browser lays the figure out at exactly its drawn size (no scaling by a hair).
  const width = Math.ceil(MARGIN * 2 + textWidth);
  const height = Math.ceil(legendTop + legendHeight + MARGIN);

  return svgDocument({
    id: 'blocks',
    width,
    height,
    title,
    description: walks.map((walk) => `${walk.block.name}, ${blockTypeName(walk.block)} (${KIND_DESCRIPTION[walk.block.kind]}): input ` +
      `${shapeText(walk.input)}, then ${walk.steps.map((s) => `${s.label} to ${shapeText(s.output)}`).join(', ')}.`).join(' '),
    body: [
      element('defs', {},
        element('marker', { id: 'block-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' },
          element('path', { d: 'M0,0 L10,5 L0,10 z', fill: PALETTE.ink }))),
      element('text', { x: MARGIN, y: MARGIN + TITLE_SIZE, 'font-size': TITLE_SIZE, 'font-weight': 'bold', fill: PALETTE.ink }, title),
      ...subtitleLines.map((line, i) => element('text', { x: MARGIN, y: MARGIN + TITLE_SIZE + 4 + (i + 1) * LINE_HEIGHT, fill: PALETTE.muted }, line)),
      ...columns,
      element('g', { class: 'legend', 'font-size': FONT_SIZE, fill: PALETTE.ink }, ...legendMarks),
    ],
  });
}
