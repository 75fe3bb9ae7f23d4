/**
 * A tiny SVG writer: elements as plain data, rendered to indented text. Text children are always
 * escaped and attribute values always quoted and escaped, so no label (a custom variant's name,
 * say) can break the markup. Output depends only on the input: attributes keep their insertion
 * order and numbers are rounded to two decimals, so the same drawing gives the same bytes and
 * committed figures diff cleanly.
 */

export type AttributeValue = string | number | undefined;
/** Insertion order is kept; `undefined` values are left out. */
export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface SvgElement {
  readonly name: string;
  readonly attributes: Attributes;
  /** Strings are text content (escaped when rendered); elements are nested markup. */
  readonly children: readonly (SvgElement | string)[];
}

export function element(name: string, attributes: Attributes = {}, ...children: (SvgElement | string)[]): SvgElement {
  return { name, attributes, children };
}

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Replaces the five characters XML gives meaning to, in text and in attribute values alike. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/** Coordinates to two decimals: finer than a pixel, and free of float noise such as 12.000000001. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot draw at a non-finite coordinate: ${value}`);
  const rounded = Math.round(value * 100) / 100;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

function renderAttributes(attributes: Attributes): string {
  let out = '';
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out += ` ${key}="${escapeXml(typeof value === 'number' ? formatNumber(value) : value)}"`;
  }
  return out;
}

/** One element per line, two spaces per level; an element holding only text stays on one line. */
function render(node: SvgElement, depth: number): string {
  const indent = '  '.repeat(depth);
  const open = `${indent}<${node.name}${renderAttributes(node.attributes)}`;
  if (node.children.length === 0) return `${open}/>`;
  if (node.children.every((child) => typeof child === 'string')) {
    return `${open}>${escapeXml(node.children.join(''))}</${node.name}>`;
  }
  const inner = node.children.map((child) =>
    typeof child === 'string' ? `${indent}  ${escapeXml(child)}` : render(child, depth + 1));
  return `${open}>\n${inner.join('\n')}\n${indent}</${node.name}>`;
}

export interface SvgDocument {
  /** Prefix for the ids of the title and description, unique per figure. */
  readonly id: string;
  readonly width: number;
  readonly height: number;
  /** Short name, announced first by screen readers and shown as a tooltip. */
  readonly title: string;
  /** What the figure shows, in a sentence or two, for readers who cannot see it. */
  readonly description: string;
  readonly body: readonly SvgElement[];
}

const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif';

/** A standalone SVG file: XML declaration, accessible name and description, white background. */
export function svgDocument({ id, width, height, title, description, body }: SvgDocument): string {
  const root = element('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    width,
    height,
    viewBox: `0 0 ${formatNumber(width)} ${formatNumber(height)}`,
    role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`,
    'font-family': FONT_FAMILY,
    'font-size': 12,
  },
  element('title', { id: `${id}-title` }, title),
  element('desc', { id: `${id}-desc` }, description),
  element('rect', { width, height, fill: '#ffffff' }),
  ...body);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(root, 0)}\n`;
}

/**
 * A text element; several `lines` become tspans `lineHeight` apart. Each tspan has an absolute
 * position (not `dy`), so an empty line keeps its slot in every renderer.
 */
export function textLines(x: number, y: number, lines: readonly string[], lineHeight: number, attributes: Attributes = {}): SvgElement {
  if (lines.length === 1) return element('text', { x, y, ...attributes }, lines[0]);
  const spans = lines.flatMap((line, i) => (line === '' ? [] : [element('tspan', { x, y: y + i * lineHeight }, line)]));
  return element('text', attributes, ...spans);
}

/**
 * Width of `text` at `fontSize` in a proportional sans-serif, from an average glyph width. Only
 * used to leave room for labels, so erring wide is the safe direction.
 */
export function estimateTextWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/**
 * Greedy word wrap of `text` into lines no wider than `maxWidth` by `estimateTextWidth` (which errs
 * wide, so the drawn lines fit). A single word wider than the limit gets a line of its own.
 */
export function wrapText(text: string, fontSize: number, maxWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (line !== '' && estimateTextWidth(candidate, fontSize) > maxWidth) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
