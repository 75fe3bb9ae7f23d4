/**
 * The SVG writers: output is well-formed XML (checked by the strict little parser below, not by
 * a pattern match), every label and mark comes from `src/arch`, and the drawing follows the data.
 */
import { describe, expect, it } from 'vitest';
import { buildNetwork, convOutputSize, type BlockSpec } from '../../src/arch/network.js';
import { customScaling } from '../../src/arch/scaling.js';
import { summarizeNetwork } from '../../src/arch/summary.js';
import { STEM } from '../../src/arch/stages.js';
import { COMPOUND_VARIANT_NAMES, VARIANT_NAMES, VARIANTS } from '../../src/arch/variants.js';
import { MAX_FIGURE_WIDTH, MIN_BOX_HEIGHT, MIN_BOX_WIDTH, networkDiagram } from '../../src/diagram/network-diagram.js';
import { formatCount, formatMultiplier, linearScale, logScale } from '../../src/diagram/scales.js';
import { familyRows, officialFamily, scalingDiagram, type FamilyMember } from '../../src/diagram/scaling-chart.js';
import { element, escapeXml, formatNumber, svgDocument } from '../../src/diagram/svg.js';
import { ConfigError } from '../../src/errors.js';

// ---------------------------------------------------------------------------------------------
// A strict parser for the XML subset SVG files use: one root element, attributes in single or
// double quotes, text, comments and the five named entities plus numeric character references.
// Anything else (a stray `&` or `<`, an unclosed or crossed tag, a duplicate attribute, DTDs,
// CDATA) throws, so a writer that forgets to escape fails here.

interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly (XmlElement | string)[];
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const isNameStart = (c: string): boolean => /[A-Za-z_:]/.test(c);
const isNameChar = (c: string): boolean => /[-A-Za-z0-9_:.]/.test(c);
const isSpace = (c: string): boolean => c === ' ' || c === '\n' || c === '\t' || c === '\r';

function parseXml(source: string): XmlElement {
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`malformed XML at offset ${at}: ${why} (near ${JSON.stringify(source.slice(at, at + 30))})`);
  };
  const skipSpace = (): void => {
    while (at < source.length && isSpace(source[at])) at++;
  };
  const consume = (literal: string): void => {
    if (!source.startsWith(literal, at)) fail(`expected ${JSON.stringify(literal)}`);
    at += literal.length;
  };
  const name = (): string => {
    const start = at;
    if (at >= source.length || !isNameStart(source[at])) fail('expected a name');
    while (at < source.length && isNameChar(source[at])) at++;
    return source.slice(start, at);
  };
  /** Decodes character data up to (not including) any character in `stops`. */
  const characters = (stops: string): string => {
    let out = '';
    while (at < source.length && !stops.includes(source[at])) {
      const c = source[at];
      if (c === '<') fail('unescaped "<"');
      if (c !== '&') {
        out += c;
        at++;
        continue;
      }
      const end = source.indexOf(';', at);
      if (end < 0) fail('unterminated entity');
      const entity = source.slice(at + 1, end);
      if (entity in NAMED_ENTITIES) out += NAMED_ENTITIES[entity];
      else if (/^#[0-9]+$/.test(entity)) out += String.fromCodePoint(Number(entity.slice(1)));
      else if (/^#x[0-9a-fA-F]+$/.test(entity)) out += String.fromCodePoint(parseInt(entity.slice(2), 16));
      else fail(`unknown entity "&${entity};"`);
      at = end + 1;
    }
    return out;
  };
  const parseElement = (): XmlElement => {
    consume('<');
    const tag = name();
    const attributes = new Map<string, string>();
    for (;;) {
      const before = at;
      skipSpace();
      if (source.startsWith('/>', at)) {
        at += 2;
        return { name: tag, attributes, children: [] };
      }
      if (source[at] === '>') {
        at++;
        break;
      }
      if (at === before) fail('expected whitespace before an attribute');
      const key = name();
      if (attributes.has(key)) fail(`duplicate attribute "${key}"`);
      skipSpace();
      consume('=');
      skipSpace();
      const quote = source[at];
      if (quote !== '"' && quote !== "'") fail('attribute value must be quoted');
      at++;
      attributes.set(key, characters(quote));
      consume(quote);
    }
    const children: (XmlElement | string)[] = [];
    for (;;) {
      if (at >= source.length) fail(`<${tag}> is never closed`);
      if (source.startsWith('</', at)) {
        at += 2;
        const closing = name();
        if (closing !== tag) fail(`</${closing}> closes <${tag}>`);
        skipSpace();
        consume('>');
        return { name: tag, attributes, children };
      }
      if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at);
        if (end < 0) fail('unterminated comment');
        at = end + 3;
      } else if (source[at] === '<') {
        if (source[at + 1] === '!' || source[at + 1] === '?') fail('DTDs, CDATA and processing instructions are not expected');
        children.push(parseElement());
      } else {
        // Whitespace between elements is indentation, not content (SVG collapses it anyway).
        const text = characters('<');
        if (text.trim() !== '') children.push(text);
      }
    }
  };
  if (source.startsWith('<?xml', at)) {
    const end = source.indexOf('?>', at);
    if (end < 0) fail('unterminated XML declaration');
    at = end + 2;
  }
  skipSpace();
  const root = parseElement();
  skipSpace();
  if (at !== source.length) fail('content after the root element');
  return root;
}

function descendants(node: XmlElement): XmlElement[] {
  return node.children.flatMap((child) => (typeof child === 'string' ? [] : [child, ...descendants(child)]));
}

const textContent = (node: XmlElement): string =>
  node.children.map((child) => (typeof child === 'string' ? child : textContent(child))).join('');

/** The text of each text element (or each tspan line) under `node`, in document order. */
function texts(node: XmlElement): string[] {
  return descendants(node)
    .filter((e) => (e.name === 'text' && !e.children.some((c) => typeof c !== 'string' && c.name === 'tspan')) || e.name === 'tspan')
    .map(textContent);
}

const numberAttribute = (node: XmlElement, key: string): number => {
  const value = node.attributes.get(key);
  if (value === undefined) throw new Error(`<${node.name}> has no ${key}`);
  return Number(value);
};

const hasClass = (node: XmlElement, name: string): boolean => (node.attributes.get('class') ?? '').split(' ').includes(name);

/** A parsed document's root after checking what every figure must have. */
function parseFigure(svg: string): XmlElement {
  const root = parseXml(svg);
  expect(root.name).toBe('svg');
  expect(root.attributes.get('xmlns')).toBe('http://www.w3.org/2000/svg');
  expect(root.attributes.get('role')).toBe('img');
  const labelledBy = root.attributes.get('aria-labelledby')!.split(' ');
  const byId = new Map(descendants(root).map((e) => [e.attributes.get('id'), e]));
  expect(labelledBy.map((id) => byId.get(id)?.name)).toEqual(['title', 'desc']);
  for (const id of labelledBy) expect(textContent(byId.get(id)!).length).toBeGreaterThan(10);
  return root;
}

// ---------------------------------------------------------------------------------------------

describe('the XML check itself', () => {
  it('accepts escaped text and rejects what a careless writer would produce', () => {
    expect(textContent(parseXml('<a x="1 &amp; 2">&lt;b&gt; &#215; &#xd7;</a>'))).toBe('<b> × ×');
    for (const bad of ['<a>1 & 2</a>', '<a><b></a></b>', '<a x="1" x="2"/>', '<a>x < y</a>', '<a x=1/>', '<a></a><b/>', '<a>']) {
      expect(() => parseXml(bad), bad).toThrow(/malformed XML/);
    }
  });
});

describe('the SVG writer', () => {
  it('escapes text and attribute values so any label survives a round trip', () => {
    const hostile = `<script>alert("x" & 'y')</script>`;
    const svg = svgDocument({
      id: 't', width: 10, height: 10, title: hostile, description: hostile,
      body: [element('text', { 'data-label': hostile }, hostile)],
    });
    const root = parseFigure(svg);
    const text = descendants(root).find((e) => e.name === 'text')!;
    expect(textContent(text)).toBe(hostile);
    expect(text.attributes.get('data-label')).toBe(hostile);
    expect(escapeXml(hostile)).not.toMatch(/[<>"']/);
  });
  it('writes coordinates without float noise and refuses non-finite ones', () => {
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(-0.001)).toBe('0');
    expect(formatNumber(12)).toBe('12');
    expect(() => formatNumber(Number.NaN)).toThrow(RangeError);
  });
});

describe('scales and number formats', () => {
  it('formats counts to three significant digits with an SI suffix', () => {
    // The published B7 parameter count, as the issue asks the chart to label it.
    expect(formatCount(66_347_960)).toBe('66.3M');
    expect(formatCount(385_814_752)).toBe('386M');
    expect(formatCount(999_600)).toBe('1M'); // rounding carries into the next unit
    expect(formatCount(1e9)).toBe('1G');
    expect(formatCount(512)).toBe('512');
    expect(formatMultiplier(600 / 224)).toBe('2.68');
  });
  it('maps equal ratios to equal distances on a log scale, with a tick at each decade', () => {
    const scale = logScale(5e6, 4.8e11, 400, 100);
    expect(scale.ticks[0]).toBeLessThanOrEqual(5e6);
    expect(scale.ticks[scale.ticks.length - 1]).toBeGreaterThanOrEqual(4.8e11);
    for (let i = 1; i < scale.ticks.length; i++) expect(scale.ticks[i] / scale.ticks[i - 1]).toBeCloseTo(10, 9);
    // 1e-9 px: the two distances differ only by float rounding of the logarithms.
    expect(scale(2e7) - scale(1e7)).toBeCloseTo(scale(2e9) - scale(1e9), 9);
    expect(scale(1e7)).toBeLessThan(scale(1e6));
  });
  it('ends a linear axis on a whole tick', () => {
    const scale = linearScale(5.3, 300, 100);
    expect(scale.ticks[scale.ticks.length - 1]).toBe(6);
    expect(scale(6)).toBe(100);
    expect(scale(0)).toBe(300);
  });
});

describe('the scaling chart', () => {
  const svg = scalingDiagram();
  const root = parseFigure(svg);
  const groups = descendants(root).filter((e) => hasClass(e, 'variant'));
  const groupOf = (label: string): XmlElement => groups.find((g) => g.attributes.get('data-variant') === label)!;
  const rows = familyRows(officialFamily());

  it('has one group per variant, in table order, labelled with its name and resolution', () => {
    expect(groups.map((g) => g.attributes.get('data-variant'))).toEqual([...COMPOUND_VARIANT_NAMES]);
    for (const name of COMPOUND_VARIANT_NAMES) {
      expect(texts(groupOf(name))).toEqual(expect.arrayContaining([name, `${VARIANTS[name].resolution} px`]));
    }
  });

  it('labels parameters and multiply-adds as summarizeNetwork counts them', () => {
    for (const name of COMPOUND_VARIANT_NAMES) {
      const summary = summarizeNetwork(buildNetwork(name), VARIANTS[name].resolution);
      const group = groupOf(name);
      const label = (cls: string): string => textContent(descendants(group).find((e) => hasClass(e, cls))!);
      expect(label('params-label')).toBe(formatCount(summary.params));
      expect(label('macs-label')).toBe(formatCount(summary.macs));
    }
    expect(textContent(descendants(groupOf('b7')).find((e) => hasClass(e, 'params-label'))!)).toBe('66.3M');
  });

  it('places the cost markers monotonically in the data on one log axis', () => {
    // Both series share the axis: gather (value, y) from circles and squares alike.
    const points = rows.flatMap((row) => {
      const marks = descendants(groupOf(row.label));
      const circle = marks.find((e) => e.name === 'circle' && hasClass(e, 'params'))!;
      const square = marks.find((e) => e.name === 'rect' && hasClass(e, 'macs'))!;
      return [
        { value: row.params, y: numberAttribute(circle, 'cy') },
        { value: row.macs, y: numberAttribute(square, 'y') + numberAttribute(square, 'height') / 2 },
      ];
    }).sort((a, b) => a.value - b.value);
    for (let i = 1; i < points.length; i++) {
      if (points[i].value > points[i - 1].value) expect(points[i].y).toBeLessThan(points[i - 1].y);
    }
  });

  it('draws each multiplier bar with a height proportional to its value', () => {
    const heightPerUnit = rows.flatMap((row) => {
      const bars = descendants(groupOf(row.label)).filter((e) => hasClass(e, 'bar'));
      expect(bars.map((b) => b.attributes.get('class'))).toEqual(['bar w', 'bar d', 'bar r']);
      return [row.widthMultiplier, row.depthMultiplier, row.resolutionMultiplier].map((m, i) => numberAttribute(bars[i], 'height') / m);
    });
    // Heights are written to 0.01 px, so each height / multiplier is within 0.005 / 1 of the true
    // ratio (every multiplier is >= 1), and two of them within 0.01 of each other.
    for (const ratio of heightPerUnit) expect(Math.abs(ratio - heightPerUnit[0])).toBeLessThanOrEqual(0.01);
  });

  it('is deterministic and follows the data: a custom member adds a column and rescales the rest', () => {
    expect(scalingDiagram()).toBe(svg);
    const custom: FamilyMember = { label: 'wide & <deep>', coefficients: customScaling(6, 6.5, 320) };
    const changed = scalingDiagram([...officialFamily(), custom]);
    expect(changed).not.toBe(svg);
    const changedRoot = parseFigure(changed);
    const customGroup = descendants(changedRoot).find((e) => e.attributes.get('data-variant') === custom.label)!;
    const summary = summarizeNetwork(buildNetwork(custom.coefficients), 320);
    expect(texts(customGroup)).toEqual(expect.arrayContaining([custom.label, formatCount(summary.params), formatCount(summary.macs)]));
    // The taller axis (6.5 > 5.3) shortens B0's width bar.
    const b0Bar = (r: XmlElement): number => numberAttribute(descendants(r).find((e) =>
      e.attributes.get('data-variant') === 'b0')!.children.find((c): c is XmlElement => typeof c !== 'string' && hasClass(c, 'w'))!, 'height');
    expect(b0Bar(changedRoot)).toBeLessThan(b0Bar(root));
  });

  it('refuses an empty family and duplicate labels', () => {
    expect(() => scalingDiagram([])).toThrow(ConfigError);
    expect(() => scalingDiagram([officialFamily()[0], officialFamily()[0]])).toThrow(ConfigError);
  });
});

describe('the network diagram', () => {
  const stagesOf = (blocks: readonly BlockSpec[]): BlockSpec[][] =>
    [...new Set(blocks.map((b) => b.stage))].map((s) => blocks.filter((b) => b.stage === s));

  for (const name of VARIANT_NAMES) {
    it(`${name}: one labelled group per stage, from buildNetwork`, () => {
      const network = buildNetwork(name);
      const resolution = VARIANTS[name].resolution;
      const root = parseFigure(networkDiagram(network, resolution));
      const columns = descendants(root).filter((e) => e.attributes.has('data-column'));
      const stages = stagesOf(network.blocks);
      expect(columns.map((c) => c.attributes.get('data-column'))).toEqual(
        ['input', 'conv_stem', ...stages.map((s) => `blocks.${s[0].stage}`), 'conv_head', 'classifier']);

      let side = convOutputSize(resolution, network.stem.stride);
      // The block type each kind is drawn as: the name papers use for it.
      const typeName = (b: BlockSpec): string => ({
        'depthwise-separable': `MBConv${b.expandRatio}`, mbconv: `MBConv${b.expandRatio}`,
        'fused-mbconv': `FusedMBConv${b.expandRatio}`, 'conv-bn-act': `Conv${b.kernel}×${b.kernel}`,
      })[b.kind];
      stages.forEach((blocks, i) => {
        const first = blocks[0];
        for (const b of blocks) side = convOutputSize(side, b.stride);
        const group = columns[i + 2];
        const text = texts(group).join('\n');
        expect(text).toContain(typeName(first));
        expect(text).toContain(`${first.kernel}×${first.kernel}, stride ${first.stride}`);
        expect(text).toContain(`${blocks.length} block`);
        expect(text).toContain(`${blocks[blocks.length - 1].outChannels} ch, ${side}×${side}`);
        expect(hasClass(group, first.kind)).toBe(true);
        // The SE badge is drawn exactly where the data has SE: every B stage, no Lite stage, V2's MBConv stages only.
        expect(descendants(group).some((e) => hasClass(e, 'se') && textContent(e) === 'SE')).toBe(first.seChannels > 0);
        expect(descendants(group).some((e) => hasClass(e, 'expanded'))).toBe(first.kind === 'mbconv' || first.kind === 'fused-mbconv');
      });
      const head = texts(columns[columns.length - 2]).join('\n');
      expect(head).toContain(`${network.headChannels} ch, ${side}×${side}`);
    });
  }

  it('draws MBConv1 and MBConv6 differently: colour, outline, corners and legend text', () => {
    const root = parseFigure(networkDiagram(buildNetwork('b0')));
    const stage = (id: string): XmlElement => descendants(root).find((e) => e.attributes.get('data-column') === id)!;
    const boxOf = (g: XmlElement): XmlElement => descendants(g).find((e) => hasClass(e, 'box'))!;
    const separable = stage('blocks.0');
    const mbconv = stage('blocks.1');
    expect(hasClass(separable, 'depthwise-separable')).toBe(true);
    expect(hasClass(mbconv, 'mbconv')).toBe(true);
    expect(boxOf(separable).attributes.get('fill')).not.toBe(boxOf(mbconv).attributes.get('fill'));
    expect(boxOf(separable).attributes.has('rx')).toBe(false);
    expect(boxOf(mbconv).attributes.has('rx')).toBe(true);
    expect(descendants(separable).some((e) => hasClass(e, 'expanded'))).toBe(false);
    expect(descendants(mbconv).some((e) => hasClass(e, 'expanded'))).toBe(true);
    const legend = texts(descendants(root).find((e) => hasClass(e, 'legend'))!).join('\n');
    expect(legend).toMatch(/MBConv1 \(depthwise-separable\)/);
    expect(legend).toMatch(/MBConv6 \(inverted residual\)/);
  });

  it('lowers boxes one equal step per halving of the map, never below the minimum, and widens outlines by the expanded channels', () => {
    const network = buildNetwork('b0');
    const root = parseFigure(networkDiagram(network, 224));
    const column = (id: string): XmlElement => descendants(root).find((e) => e.attributes.get('data-column') === id)!;
    const boxHeight = (id: string): number => numberAttribute(descendants(column(id)).find((e) => hasClass(e, 'box'))!, 'height');
    // Sides 224, 112, 56, 28, 14, 7: each halving takes the same height off. Heights are written to
    // 0.01 px, so a difference of two is within 0.01 of the true one; 0.02 allows both to round apart.
    const ladder = ['input', 'conv_stem', 'blocks.1', 'blocks.2', 'blocks.3', 'blocks.5'].map(boxHeight);
    const step = ladder[0] - ladder[1];
    expect(step).toBeGreaterThan(0);
    for (let i = 1; i < ladder.length; i++) expect(Math.abs(ladder[i - 1] - ladder[i] - step)).toBeLessThanOrEqual(0.02);
    expect(boxHeight('blocks.0')).toBe(boxHeight('conv_stem')); // both 112×112
    // The smallest maps (7×7) and the classifier's vector are boxes of the minimum height, not lines.
    expect(boxHeight('blocks.5')).toBe(MIN_BOX_HEIGHT);
    expect(boxHeight('classifier')).toBe(MIN_BOX_HEIGHT);
    for (const box of descendants(root).filter((e) => hasClass(e, 'box'))) {
      expect(numberAttribute(box, 'width')).toBeGreaterThanOrEqual(MIN_BOX_WIDTH);
      expect(numberAttribute(box, 'height')).toBeGreaterThanOrEqual(MIN_BOX_HEIGHT);
    }
    const widths = (id: string): [number, number] => {
      const marks = descendants(column(id));
      return [numberAttribute(marks.find((e) => hasClass(e, 'box'))!, 'width'), numberAttribute(marks.find((e) => hasClass(e, 'expanded'))!, 'width')];
    };
    const [box, outline] = widths('blocks.6');
    const last = network.blocks[network.blocks.length - 1];
    // Width grows with the square root of channels. Writing both widths (over 30 px here) to
    // 0.01 px moves the ratio by about 5e-4; toBeCloseTo(…, 2) allows 5e-3.
    expect(outline / box).toBeCloseTo(Math.sqrt(last.expandedChannels / last.outChannels), 2);
  });

  it('follows the resolution and custom coefficients, and is deterministic', () => {
    const network = buildNetwork('b0');
    const native = networkDiagram(network);
    expect(networkDiagram(network)).toBe(native);
    const larger = networkDiagram(network, 256);
    expect(larger).not.toBe(native);
    const stem = convOutputSize(256, STEM.stride);
    expect(texts(parseFigure(larger)).join('\n')).toContain(`${network.stemChannels} ch, ${stem}×${stem}`);
    const custom = buildNetwork(customScaling(1.3, 1.5, 256));
    const root = parseFigure(networkDiagram(custom));
    expect(textContent(descendants(root).find((e) => e.name === 'title')!)).toMatch(/custom.*256×256/);
    expect(descendants(root).filter((e) => hasClass(e, 'stage'))).toHaveLength(stagesOf(custom.blocks).length);
  });

  for (const name of VARIANT_NAMES) {
    it(`${name}: fits in ${MAX_FIGURE_WIDTH} px, wrapping its columns into rows joined by one arrow`, () => {
      const root = parseFigure(networkDiagram(buildNetwork(name)));
      expect(numberAttribute(root, 'width')).toBeLessThanOrEqual(MAX_FIGURE_WIDTH);
      const columns = descendants(root).filter((e) => e.attributes.has('data-column'));
      const flows = descendants(root).filter((e) => hasClass(e, 'flow'));
      expect(flows).toHaveLength(columns.length - 1); // one arrow into every column but the input
      // A wrap arrow ends where the next row starts: the first column of that row is left of the one before it.
      const centreOf = (g: XmlElement): number => numberAttribute(descendants(g).find((e) => hasClass(e, 'box'))!, 'x');
      const wraps = columns.slice(1).filter((c, i) => centreOf(c) < centreOf(columns[i])).length;
      expect(flows.filter((f) => hasClass(f, 'wrap'))).toHaveLength(wraps);
    });
  }

  it('refuses a resolution that is not a positive integer', () => {
    expect(() => networkDiagram(buildNetwork('b0'), 0)).toThrow(ConfigError);
    expect(() => networkDiagram(buildNetwork('b0'), 22.5)).toThrow(ConfigError);
  });
});
