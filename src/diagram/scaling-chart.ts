/**
 * The family side by side: each member's width, depth and resolution multipliers (linear, top
 * panel) and its parameters and multiply-adds per image (log scale, bottom panel). Every number
 * is computed from `src/arch` when the figure is drawn: the coefficients from the variant table
 * (or a custom member), the totals from `buildNetwork` and `summarizeNetwork`.
 */
import { buildNetwork } from '../arch/network.js';
import { summarizeNetwork } from '../arch/summary.js';
import { COMPOUND_VARIANT_NAMES, VARIANTS, type ScalingCoefficients } from '../arch/variants.js';
import { ConfigError } from '../errors.js';
import { PALETTE } from './palette.js';
import { formatCount, formatGrouped, formatMultiplier, linearScale, logScale, type Scale } from './scales.js';
import { element, estimateTextWidth, formatNumber, svgDocument, textLines, type SvgElement } from './svg.js';

export interface FamilyMember {
  /** Shown under the member's column, e.g. `b7`. */
  readonly label: string;
  readonly coefficients: ScalingCoefficients;
}

/** One member with everything the chart draws. */
export interface FamilyRow extends FamilyMember {
  /** Multipliers relative to B0; width and depth are the coefficients themselves. */
  readonly widthMultiplier: number;
  readonly depthMultiplier: number;
  readonly resolutionMultiplier: number;
  readonly blocks: number;
  /** Trainable parameters, as `summarizeNetwork` counts them. */
  readonly params: number;
  /** Multiply-adds per image at the member's own resolution. */
  readonly macs: number;
}

/** B0 to B8 and L2 with their published coefficients, in table order. */
export function officialFamily(): FamilyMember[] {
  return COMPOUND_VARIANT_NAMES.map((name) => ({ label: name, coefficients: VARIANTS[name] }));
}

/** The chart's data: the network of each member, built and summarised at its resolution. */
export function familyRows(members: readonly FamilyMember[]): FamilyRow[] {
  if (members.length === 0) throw new ConfigError('a scaling chart needs at least one family member');
  const labels = new Set(members.map((m) => m.label));
  if (labels.size !== members.length) throw new ConfigError('family members need distinct labels');
  const base = VARIANTS.b0;
  return members.map((member) => {
    const { coefficients } = member;
    const network = buildNetwork(coefficients);
    const summary = summarizeNetwork(network, coefficients.resolution);
    return {
      ...member,
      widthMultiplier: coefficients.width / base.width,
      depthMultiplier: coefficients.depth / base.depth,
      resolutionMultiplier: coefficients.resolution / base.resolution,
      blocks: network.blocks.length,
      params: summary.params,
      macs: summary.macs,
    };
  });
}

const MARGIN_LEFT = 76;
const MARGIN_RIGHT = 24;
const COLUMN_WIDTH = 88;
const BAR_WIDTH = 20;
const BAR_GAP = 4;
const MULTIPLIER_PLOT_HEIGHT = 190;
const COST_PLOT_HEIGHT = 230;
const MARKER_RADIUS = 5;

type MultiplierKey = 'widthMultiplier' | 'depthMultiplier' | 'resolutionMultiplier';

/** The three bars of a column, left to right, with the letter printed under each. */
const MULTIPLIERS: readonly { key: MultiplierKey; name: string; letter: string; colour: string }[] = [
  { key: 'widthMultiplier', name: 'width (channels)', letter: 'w', colour: PALETTE.width },
  { key: 'depthMultiplier', name: 'depth (blocks per stage)', letter: 'd', colour: PALETTE.depth },
  { key: 'resolutionMultiplier', name: 'resolution (input side)', letter: 'r', colour: PALETTE.resolution },
];

interface PanelFrame {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** Horizontal grid lines and their labels at the scale's ticks, behind the data. */
function gridAndAxis(frame: PanelFrame, scale: Scale, label: (tick: number) => string): SvgElement {
  return element('g', { class: 'axis', 'font-size': 11, fill: PALETTE.muted },
    ...scale.ticks.flatMap((tick) => [
      element('line', { x1: frame.left, x2: frame.right, y1: scale(tick), y2: scale(tick), stroke: PALETTE.grid }),
      element('text', { x: frame.left - 8, y: scale(tick) + 4, 'text-anchor': 'end' }, label(tick)),
    ]),
    element('line', { x1: frame.left, x2: frame.right, y1: frame.bottom, y2: frame.bottom, stroke: PALETTE.ink }));
}

/** A row of legend entries: a swatch (any element drawn at the origin) and its text. */
function legendRow(x: number, y: number, entries: readonly { swatch: SvgElement; text: string }[]): SvgElement {
  let cursor = x;
  const items: SvgElement[] = [];
  for (const { swatch, text } of entries) {
    items.push(element('g', { transform: `translate(${formatNumber(cursor)} ${formatNumber(y)})` }, swatch, element('text', { x: 16, y: 4 }, text)));
    cursor += 32 + estimateTextWidth(text, 11);
  }
  return element('g', { class: 'legend', 'font-size': 11, fill: PALETTE.ink }, ...items);
}

const paramsMarker = (x: number, y: number): SvgElement =>
  element('circle', { class: 'params', cx: x, cy: y, r: MARKER_RADIUS, fill: PALETTE.params });
const macsMarker = (x: number, y: number): SvgElement =>
  element('rect', { class: 'macs', x: x - MARKER_RADIUS, y: y - MARKER_RADIUS, width: 2 * MARKER_RADIUS, height: 2 * MARKER_RADIUS, fill: PALETTE.macs });

function describe(rows: readonly FamilyRow[]): string {
  const first = rows[0];
  const last = rows[rows.length - 1];
  return `For each of ${rows.map((r) => r.label).join(', ')}: the width, depth and resolution multipliers relative to B0 ` +
    `as bars, then parameters and multiply-adds per image on a log scale. From ${first.label} to ${last.label}, ` +
    `parameters go from ${formatCount(first.params)} to ${formatCount(last.params)} and multiply-adds from ` +
    `${formatCount(first.macs)} to ${formatCount(last.macs)}.`;
}

/** The scaling chart as a standalone SVG document; by default the official family. */
export function scalingDiagram(members: readonly FamilyMember[] = officialFamily()): string {
  const rows = familyRows(members);
  const width = MARGIN_LEFT + rows.length * COLUMN_WIDTH + MARGIN_RIGHT;
  const columnCentre = (i: number): number => MARGIN_LEFT + (i + 0.5) * COLUMN_WIDTH;
  const right = width - MARGIN_RIGHT;

  const multiplierFrame = { left: MARGIN_LEFT, right, top: 120, bottom: 120 + MULTIPLIER_PLOT_HEIGHT };
  const largestMultiplier = Math.max(...rows.flatMap((r) => MULTIPLIERS.map((m) => r[m.key])));
  const multiplierY = linearScale(largestMultiplier, multiplierFrame.bottom, multiplierFrame.top);

  const costTop = multiplierFrame.bottom + 110;
  const costFrame = { left: MARGIN_LEFT, right, top: costTop, bottom: costTop + COST_PLOT_HEIGHT };
  const counts = rows.flatMap((r) => [r.params, r.macs]);
  const costY = logScale(Math.min(...counts), Math.max(...counts), costFrame.bottom, costFrame.top);
  const height = costFrame.bottom + 56;

  const columns = rows.map((row, i) => {
    const x = columnCentre(i);
    const barsLeft = x - (MULTIPLIERS.length * BAR_WIDTH + (MULTIPLIERS.length - 1) * BAR_GAP) / 2;
    const bars = MULTIPLIERS.flatMap((m, j) => {
      const value = row[m.key];
      const barX = barsLeft + j * (BAR_WIDTH + BAR_GAP);
      const top = multiplierY(value);
      return [
        element('rect', { class: `bar ${m.letter}`, x: barX, y: top, width: BAR_WIDTH, height: multiplierFrame.bottom - top, fill: m.colour },
          element('title', {}, `${row.label} ${m.name}: ×${formatMultiplier(value)}`)),
        element('text', { x: barX + BAR_WIDTH / 2, y: top - 4, 'text-anchor': 'middle', 'font-size': 9 }, formatMultiplier(value)),
        element('text', { x: barX + BAR_WIDTH / 2, y: multiplierFrame.bottom + 12, 'text-anchor': 'middle', 'font-size': 9, fill: PALETTE.muted }, m.letter),
      ];
    });
    const paramsY = costY(row.params);
    const macsY = costY(row.macs);
    return element('g', { class: 'variant', 'data-variant': row.label },
      element('title', {}, `${row.label}: width ×${formatMultiplier(row.widthMultiplier)}, depth ×${formatMultiplier(row.depthMultiplier)}, ` +
        `${row.coefficients.resolution} px, ${row.blocks} blocks, ${formatGrouped(row.params)} parameters, ` +
        `${formatGrouped(row.macs)} multiply-adds per image`),
      ...bars,
      textLines(x, multiplierFrame.bottom + 30, [row.label, `${row.coefficients.resolution} px`], 14, { 'text-anchor': 'middle', 'font-size': 12 }),
      paramsMarker(x, paramsY),
      element('text', { class: 'params-label', x, y: paramsY + 18, 'text-anchor': 'middle', 'font-size': 10 }, formatCount(row.params)),
      macsMarker(x, macsY),
      element('text', { class: 'macs-label', x, y: macsY - 10, 'text-anchor': 'middle', 'font-size': 10 }, formatCount(row.macs)),
      textLines(x, costFrame.bottom + 18, [row.label, `${row.blocks} blocks`], 14, { 'text-anchor': 'middle', 'font-size': 12 }),
    );
  });

  const seriesLine = (values: readonly number[], colour: string, name: string): SvgElement =>
    element('polyline', {
      class: `series ${name}`,
      points: values.map((v, i) => `${formatNumber(columnCentre(i))},${formatNumber(costY(v))}`).join(' '),
      fill: 'none', stroke: colour, 'stroke-width': 1.5,
    });

  return svgDocument({
    id: 'scaling',
    width,
    height,
    title: 'EfficientNet compound scaling: width, depth and resolution, and what they cost',
    description: describe(rows),
    body: [
      element('text', { x: MARGIN_LEFT, y: 30, 'font-size': 18, 'font-weight': 'bold', fill: PALETTE.ink },
        'Compound scaling: one network, three knobs'),
      element('text', { x: MARGIN_LEFT, y: 50, fill: PALETTE.muted },
        'Computed from src/arch: coefficients from the variant table, totals by summarizeNetwork at each native resolution.'),
      element('text', { x: MARGIN_LEFT, y: 84, 'font-size': 14, 'font-weight': 'bold', fill: PALETTE.ink }, 'Multipliers relative to B0'),
      legendRow(MARGIN_LEFT, 102, MULTIPLIERS.map((m) => ({
        swatch: element('rect', { x: 0, y: -6, width: 10, height: 10, fill: m.colour }),
        text: `${m.letter}: ${m.name}`,
      }))),
      gridAndAxis(multiplierFrame, multiplierY, (tick) => `×${tick}`),
      element('text', { x: MARGIN_LEFT, y: costFrame.top - 36, 'font-size': 14, 'font-weight': 'bold', fill: PALETTE.ink },
        'Cost per image (log scale: each grid line is ten times the one below)'),
      legendRow(MARGIN_LEFT, costFrame.top - 18, [
        { swatch: paramsMarker(5, -1), text: 'parameters (circles)' },
        { swatch: macsMarker(5, -1), text: 'multiply-adds (squares)' },
      ]),
      gridAndAxis(costFrame, costY, formatCount),
      seriesLine(rows.map((r) => r.params), PALETTE.params, 'params'),
      seriesLine(rows.map((r) => r.macs), PALETTE.macs, 'macs'),
      ...columns,
    ],
  });
}
