// The "inside" view: what the network computes on its way to the answer for the current photo.
// For each stage, heat-maps of a few channels of its last block's output; for every block with
// squeeze-and-excitation (all of B0-L2, V2's MBConv stages, none of Lite), its gates as a bar chart;
// and any block the visitor picks drawn step by step, by the same code as `efficientnet diagram --block`.
//
// It takes one extra forward pass with the library's hooks after the classification: classify
// keeps its softmax in the core, and the hooks exist only on `forward`, which returns logits.
// The pass runs only while the view is open, so the page costs nothing more when it is closed.
// Everything here is display arithmetic (statistics to choose channels, colour maps).

import { blockDiagram, representativeBlocks } from '../dist/diagram/block-diagram.js';
import { blockTypeName } from '../dist/diagram/block-names.js';

/** Channels drawn per stage: the ones with the largest variance over the map, so the tiles show structure. */
const CHANNELS_SHOWN = 4;
/** CSS pixels: one channel tile, and the gap between the 2 x 2 tiles of a stage. */
const TILE_SIZE = 60;
const TILE_GAP = 2;
/** CSS pixels of one gate chart; a bar per channel, so wide blocks get sub-pixel bars. */
const CHART_WIDTH = 168;
const CHART_HEIGHT = 48;
const BAR_COLOUR = '#2f6fdf';
/** Viridis at five evenly spaced stops: ordered in lightness, readable in greyscale and by most colour-blind viewers. */
const COLOUR_STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const COLOUR_LEVELS = 256;

/** [COLOUR_LEVELS, 3] RGB bytes, linear between the stops. */
const COLOUR_MAP = (() => {
  const table = new Uint8ClampedArray(COLOUR_LEVELS * 3); // [levels, 3]
  const segments = COLOUR_STOPS.length - 1;
  for (let level = 0; level < COLOUR_LEVELS; level++) {
    const position = (level / (COLOUR_LEVELS - 1)) * segments;
    const segment = Math.min(Math.floor(position), segments - 1);
    const t = position - segment;
    for (let k = 0; k < 3; k++) {
      table[level * 3 + k] = COLOUR_STOPS[segment][k] * (1 - t) + COLOUR_STOPS[segment + 1][k] * t;
    }
  }
  return table;
})();

const byId = (id) => document.getElementById(id);

/**
 * One forward pass over the photo, keeping the last block's output at each stride (NHWC) and
 * every block's SE gate ([1, c]).
 */
async function captureInternals(net, bytes) {
  const { input, shape } = await net.preprocessImages([bytes]); // input: [1, 3, size, size]
  const lastAtStride = new Map();
  const gates = [];
  await net.forward(input, shape, {
    onCheckpoint(checkpoint, data, dims) {
      // Later blocks at the same stride replace earlier ones: a stage's output is its last block's.
      if (checkpoint.module.startsWith('blocks.')) {
        lastAtStride.set(checkpoint.stride, { module: checkpoint.module, stride: checkpoint.stride, shape: dims, data });
      }
    },
    onStep(event) {
      if (event.step.kind === 'se-gate') {
        gates.push({ block: event.step.se.replace(/\.se$/, ''), values: event.output() }); // values: [1, c]
      }
    },
  });
  const stages = [...lastAtStride.values()].sort((a, b) => a.stride - b.stride);
  return { stages, gates };
}

/** Per-channel variance and min/max of an NHWC [1, h, w, c] map, plus the map's overall range. */
function channelStatistics(data, channels) {
  const sums = new Float64Array(channels); // [c]
  const squares = new Float64Array(channels); // [c]
  const minima = new Float32Array(channels).fill(Infinity); // [c]
  const maxima = new Float32Array(channels).fill(-Infinity); // [c]
  for (let i = 0; i < data.length; i++) {
    const c = i % channels;
    const v = data[i];
    sums[c] += v;
    squares[c] += v * v;
    if (v < minima[c]) minima[c] = v;
    if (v > maxima[c]) maxima[c] = v;
  }
  const pixels = data.length / channels;
  const variances = sums.map((sum, c) => squares[c] / pixels - (sum / pixels) ** 2); // [c]
  return { variances, minima, maxima, min: Math.min(...minima), max: Math.max(...maxima) };
}

/** A canvas of the given CSS size backed by device pixels, its context scaled to CSS units. */
function createCanvas(width, height) {
  const canvas = document.createElement('canvas');
  const scale = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const context = canvas.getContext('2d');
  context.scale(scale, scale);
  return { canvas, context };
}

/** Channel `channel` of an NHWC map as an RGBA image at the map's own size, coloured from its own min to max. */
function channelImage(data, height, width, channels, channel, minimum, maximum) {
  const image = new ImageData(width, height); // [h, w, 4]
  const span = maximum - minimum;
  for (let p = 0; p < height * width; p++) {
    // A constant channel has no range to spread: it shows as the middle colour.
    const t = span > 0 ? (data[p * channels + channel] - minimum) / span : 0.5;
    const level = Math.round(t * (COLOUR_LEVELS - 1));
    image.data.set(COLOUR_MAP.subarray(level * 3, level * 3 + 3), p * 4);
    image.data[p * 4 + 3] = 255;
  }
  return image;
}

/** Draws a small map onto a tile, nearest-neighbour so each cell of the map stays a crisp square. */
function drawTile(context, image, x, y) {
  const scratch = document.createElement('canvas');
  scratch.width = image.width;
  scratch.height = image.height;
  scratch.getContext('2d').putImageData(image, 0, 0);
  const scale = TILE_SIZE / Math.max(image.width, image.height);
  const width = image.width * scale;
  const height = image.height * scale;
  context.imageSmoothingEnabled = false;
  context.drawImage(scratch, x + (TILE_SIZE - width) / 2, y + (TILE_SIZE - height) / 2, width, height);
}

/** Three significant digits, without an exponent for everyday magnitudes. */
function formatValue(value) {
  return String(Number(value.toPrecision(3)));
}

function caption(lines) {
  const figcaption = document.createElement('figcaption');
  figcaption.append(...lines.map((text, i) => {
    const line = document.createElement(i === 0 ? 'strong' : 'span');
    line.textContent = text;
    return line;
  }));
  return figcaption;
}

/**
 * One numbering on the page: timm's module names (`blocks.N`, N from 0), with the stage of the
 * paper's Table 1 in words beside them. The paper counts the stem as stage 1, so `blocks.N` is its
 * stage N + 2.
 */
const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth'];
function paperStage(module) {
  const stage = Number(module.split('.')[1]) + 2;
  return ORDINALS[stage - 1] ?? `${stage}th`;
}

function stageFigure(stage) {
  const [, height, width, channels] = stage.shape;
  const stats = channelStatistics(stage.data, channels);
  const shown = Array.from(stats.variances.keys())
    .sort((a, b) => stats.variances[b] - stats.variances[a] || a - b)
    .slice(0, CHANNELS_SHOWN);
  const side = 2 * TILE_SIZE + TILE_GAP;
  const { canvas, context } = createCanvas(side, side);
  shown.forEach((channel, i) => {
    const image = channelImage(stage.data, height, width, channels, channel, stats.minima[channel], stats.maxima[channel]);
    drawTile(context, image, (i % 2) * (TILE_SIZE + TILE_GAP), Math.floor(i / 2) * (TILE_SIZE + TILE_GAP));
  });
  const figure = document.createElement('figure');
  figure.className = 'stage-map';
  figure.dataset.module = stage.module;
  figure.append(canvas, caption([
    `${stage.module} · stride ${stage.stride}`,
    `the paper's ${paperStage(stage.module)} stage`,
    `${channels} x ${height} x ${width}`,
    `values ${formatValue(stats.min)} … ${formatValue(stats.max)}`,
    `ch. ${shown.join(', ')}`,
  ]));
  return figure;
}

function gateFigure(gate) {
  const values = gate.values; // [1, c]
  const { canvas, context } = createCanvas(CHART_WIDTH, CHART_HEIGHT);
  const barWidth = CHART_WIDTH / values.length;
  context.fillStyle = BAR_COLOUR;
  values.forEach((value, c) => {
    context.fillRect(c * barWidth, CHART_HEIGHT * (1 - value), barWidth, CHART_HEIGHT * value);
  });
  const figure = document.createElement('figure');
  figure.className = 'se-chart';
  figure.dataset.module = gate.block;
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  figure.append(canvas, caption([gate.block, `${values.length} gates, ${formatValue(min)} … ${formatValue(max)}`]));
  return figure;
}

/** The colour scale of the heat-maps, drawn from the same table the tiles use. */
function drawColourScale() {
  const scale = byId('colour-scale');
  const image = new ImageData(COLOUR_LEVELS, 1); // [1, levels, 4]
  for (let level = 0; level < COLOUR_LEVELS; level++) {
    image.data.set(COLOUR_MAP.subarray(level * 3, level * 3 + 3), level * 4);
    image.data[level * 4 + 3] = 255;
  }
  scale.width = COLOUR_LEVELS;
  scale.height = 1;
  scale.getContext('2d').putImageData(image, 0, 0);
}

/**
 * The "one block" part of the view, added after the gate charts: a block picker and the block's
 * drawing. Built here rather than in index.html so the whole of this view lives in one file.
 */
function createBlockSection(details) {
  const heading = document.createElement('h3');
  heading.textContent = 'One block, step by step';
  const note = document.createElement('p');
  note.className = 'note';
  const command = document.createElement('code');
  command.textContent = 'efficientnet diagram --block';
  note.append('Every step of the chosen block in order, named as in timm, with the tensor shape after it ' +
    "(channels × height × width) at this model's input size, drawn from the architecture data as ", command, ' draws it.');
  const label = document.createElement('label');
  label.textContent = 'Block ';
  const choice = document.createElement('select');
  choice.id = 'block-choice';
  label.append(choice);
  const drawing = document.createElement('div');
  drawing.id = 'block-drawing';
  drawing.style.marginTop = '0.5rem';
  drawing.style.overflowX = 'auto';
  details.append(heading, note, label, drawing);
  return { choice, drawing };
}

/** Fills the picker with the network's blocks, selecting `picked` when the network has a block of that name. */
function fillBlockChoice(choice, network, picked) {
  const names = network.blocks.map((b) => b.name);
  choice.replaceChildren(...network.blocks.map((b) => new Option(`${b.name} · ${blockTypeName(b)}`, b.name)));
  // By default the last representative block: B0's blocks.1.1, an MBConv6 with SE and a residual add.
  const representatives = representativeBlocks(network);
  choice.value = names.includes(picked) ? picked : representatives[representatives.length - 1].name;
}

/** Replaces `container`'s content with the block drawn as SVG (parsed as SVG, not as HTML). */
function drawBlock(container, network, name, resolution) {
  const svg = blockDiagram(network, [name], resolution);
  const root = new DOMParser().parseFromString(svg, 'image/svg+xml').documentElement;
  root.style.display = 'block';
  root.style.maxWidth = '100%';
  root.style.height = 'auto';
  container.replaceChildren(document.importNode(root, true));
  container.dataset.block = name;
}

/**
 * Wires the view in index.html's `#inside` details element. `show(net, bytes)` gives it the photo
 * just classified, `clear()` forgets it (a new run started). `#inside[data-state]` is `empty`,
 * `pending` (a photo, view closed), `busy`, `done` or `error`.
 */
export function createInsideView() {
  const details = byId('inside');
  const status = byId('inside-status');
  const block = createBlockSection(details);
  /** The network the picker lists, so a new photo on the same model keeps the list as it is. */
  let listed = null;
  /** The block the visitor last picked, kept across photos and models (a model without it shows its default). */
  let picked = null;
  /** The photo and model to show: { net, bytes }, a new object for every classification. */
  let subject = null;
  let rendering = null;
  let shown = null;

  const setState = (state) => {
    details.dataset.state = state;
  };

  /** Draws the picked block of the current model; needs no forward pass, so it shows at once. */
  function showBlock() {
    if (!subject) return;
    const { network, recipe } = subject.net;
    if (listed !== network) {
      fillBlockChoice(block.choice, network, picked);
      listed = network;
    }
    drawBlock(block.drawing, network, block.choice.value, recipe.size);
  }

  async function refresh() {
    if (!details.open || !subject || subject === shown || subject === rendering) return;
    const current = subject;
    rendering = current;
    setState('busy');
    status.textContent = 'Running the network with hooks…';
    status.classList.remove('error');
    try {
      showBlock();
      const { stages, gates } = await captureInternals(current.net, current.bytes);
      // A newer photo or model arrived meanwhile: its own refresh draws it.
      if (current !== subject) return;
      byId('stage-maps').replaceChildren(...stages.map(stageFigure));
      byId('se-gates').replaceChildren(...gates.map(gateFigure));
      // EfficientNet-Lite has no squeeze-and-excitation, and V2 only in its later stages: say so rather than show nothing.
      const gateNote = gates.length === 0 ? 'no squeeze-and-excitation gates (this network has none)' : `${gates.length} blocks' gates`;
      status.textContent = `${stages.length} stage outputs and ${gateNote}, from one forward pass with hooks run after the classification.`;
      shown = current;
      setState('done');
    } catch (error) {
      if (current !== subject) return;
      status.textContent = `${error.name ?? 'Error'}: ${error.message ?? String(error)}`;
      status.classList.add('error');
      setState('error');
    } finally {
      if (rendering === current) rendering = null;
    }
  }

  function clear() {
    subject = null;
    shown = null;
    byId('stage-maps').replaceChildren();
    byId('se-gates').replaceChildren();
    block.choice.replaceChildren();
    block.drawing.replaceChildren();
    delete block.drawing.dataset.block;
    listed = null;
    status.textContent = 'Classify a photo to look inside.';
    status.classList.remove('error');
    setState('empty');
  }

  drawColourScale();
  clear();
  details.addEventListener('toggle', () => refresh());
  block.choice.addEventListener('change', () => {
    picked = block.choice.value;
    showBlock();
  });
  return {
    show(net, bytes) {
      subject = { net, bytes };
      setState('pending');
      refresh();
    },
    clear,
  };
}
