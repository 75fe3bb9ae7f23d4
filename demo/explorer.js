// The compound-scaling explorer: turn phi and the bases alpha, beta, gamma, and see the network they
// define (drawn by the library's own diagram code), what it costs, how fast it runs here, and where
// it sits beside the official B0-B7 and their published accuracies.
//
// Every network, count and single-axis match comes from the library (`summarizeCompoundScaling`,
// `scaleOneAxis`, `summarizeNetwork`, `networkDiagram`); this file only draws and times. The only
// numbers typed in here are the paper's published accuracies.
import {
  EfficientNet, PAPER_COMPOUND, VARIANTS, buildNetwork, compoundCostFactor, createSyntheticWeights, scaleOneAxis,
  summarizeCompoundScaling, summarizeNetwork,
} from '../dist/index.js';

/**
 * ImageNet top-1 accuracy (%) of the official networks as published in M. Tan and Q. V. Le,
 * "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks", ICML 2019, Table 2
 * (arXiv:1905.11946; its first version and the announcement gave B7 as 84.4%, later ones 84.3%).
 */
export const PUBLISHED_TOP1 = { b0: 77.1, b1: 79.1, b2: 80.1, b3: 81.6, b4: 82.9, b5: 83.6, b6: 84.0, b7: 84.3 };
/** The same table's parameters and FLOPS (a multiply-add counted once), as printed there, to set beside this library's counts. */
const PUBLISHED_COST = {
  b0: '5.3M, 0.39B', b1: '7.8M, 0.70B', b2: '9.2M, 1.0B', b3: '12M, 1.8B', b4: '19M, 4.2B', b5: '30M, 9.9B', b6: '43M, 19B', b7: '66M, 37B',
};
const OFFICIAL = Object.keys(PUBLISHED_TOP1);
const PAPER_REFERENCE = 'Tan & Le, ICML 2019, Table 2';

/** The measured pass runs at this fraction of the network's side (1/16 of its pixels), so resolution still counts and B7 stays under a second. */
const MEASURE_SIDE_DIVISOR = 4;
const MIN_MEASURE_SIDE = 32;
/** Largest network timed in the page: B7 has 66.3 M parameters (265 MB of synthetic float32 weights). */
const MAX_MEASURED_PARAMS = 70e6;
/** Untimed passes, then timed ones; the median of the timed passes is shown. */
const WARMUP_RUNS = 2;
const MEASURE_RUNS = 5;
const SYNTHETIC_SEED = 0;
/** Milliseconds of slider rest before the (slow) measurement starts; the counts follow every move at once. */
const MEASURE_DELAY = 400;
const TARGET_PHIS = [1, 2, 3];
const AXIS_LABEL = { width: 'width only', depth: 'depth only', resolution: 'resolution only' };

const byId = (id) => document.getElementById(id);
const SVG_NS = 'http://www.w3.org/2000/svg';

const giga = (macs) => `${(macs / 1e9).toFixed(macs < 1e10 ? 3 : 1)} G`;
const millions = (count) => `${(count / 1e6).toFixed(2)} M`;
const mebibytes = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const fixed = (value, digits) => Number(value).toFixed(digits);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const nextFrame = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A shown number: its text for people, its exact value in `data-value` for scripts and tests. */
function setNumber(id, value, text) {
  const element = byId(id);
  element.dataset.value = String(value);
  element.textContent = text;
}

function svgElement(name, attributes = {}, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Times one forward pass of `network` on synthetic weights at a quarter of `resolution`: the
 * weights are made in the page, the model created on one thread with the deterministic core, two
 * untimed passes, then the median of MEASURE_RUNS passes.
 */
async function measureForward(variant, network, resolution) {
  const side = Math.max(MIN_MEASURE_SIDE, Math.round(resolution / MEASURE_SIDE_DIVISOR));
  const weights = createSyntheticWeights({ variant: network, seed: SYNTHETIC_SEED });
  const net = await EfficientNet.create({ variant, weights, threads: 1, simd: 'deterministic' });
  try {
    const input = new Float32Array(3 * side * side); // [1, 3, side, side], a smooth ramp in [-1, 1]
    for (let i = 0; i < input.length; i++) input[i] = ((i % 97) / 48) - 1;
    const shape = [1, 3, side, side];
    // The first pass plans the program for this shape; the second lets the engine finish optimising the kernels.
    for (let warmup = 0; warmup < WARMUP_RUNS; warmup++) await net.forward(input, shape);
    const times = [];
    for (let run = 0; run < MEASURE_RUNS; run++) {
      const started = performance.now();
      await net.forward(input, shape);
      times.push(performance.now() - started);
    }
    return { side, macs: summarizeNetwork(network, side).macs, milliseconds: median(times) };
  } finally {
    net.dispose();
  }
}

/** A log-scale axis mapping [min, max] to [from, to] pixels. */
function logScale(min, max, from, to) {
  const low = Math.log10(min);
  const span = Math.log10(max) - low || 1;
  return (value) => from + ((Math.log10(value) - low) / span) * (to - from);
}

/** Powers of ten and their 2x and 5x between min and max, for log-axis ticks. */
function logTicks(min, max) {
  const ticks = [];
  for (let power = Math.floor(Math.log10(min)); power <= Math.ceil(Math.log10(max)); power++) {
    for (const factor of [1, 2, 5]) {
      const value = factor * 10 ** power;
      if (value >= min && value <= max) ticks.push(value);
    }
  }
  return ticks;
}

const CHART = { width: 640, height: 280, left: 56, right: 20, top: 20, bottom: 44 };

/** Axes with ticks and titles; returns the group to draw into and the two scales. */
function chartFrame(svg, xRange, yScaleOf, yTicks, xTitle, yTitle, formatY) {
  const x = logScale(xRange[0], xRange[1], CHART.left, CHART.width - CHART.right);
  const y = yScaleOf(CHART.height - CHART.bottom, CHART.top);
  const axis = svgElement('g', { class: 'axis' });
  axis.append(svgElement('line', { x1: CHART.left, y1: CHART.height - CHART.bottom, x2: CHART.width - CHART.right, y2: CHART.height - CHART.bottom }));
  axis.append(svgElement('line', { x1: CHART.left, y1: CHART.top, x2: CHART.left, y2: CHART.height - CHART.bottom }));
  for (const tick of logTicks(xRange[0], xRange[1])) {
    axis.append(svgElement('line', { class: 'grid', x1: x(tick), y1: CHART.top, x2: x(tick), y2: CHART.height - CHART.bottom }));
    axis.append(svgElement('text', { x: x(tick), y: CHART.height - CHART.bottom + 16, 'text-anchor': 'middle' }, `${tick / 1e9}`));
  }
  for (const tick of yTicks) {
    axis.append(svgElement('line', { class: 'grid', x1: CHART.left, y1: y(tick), x2: CHART.width - CHART.right, y2: y(tick) }));
    axis.append(svgElement('text', { x: CHART.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, formatY(tick)));
  }
  axis.append(svgElement('text', { x: (CHART.left + CHART.width - CHART.right) / 2, y: CHART.height - 8, 'text-anchor': 'middle', class: 'title' }, xTitle));
  axis.append(svgElement('text', {
    x: 14, y: (CHART.top + CHART.height - CHART.bottom) / 2, 'text-anchor': 'middle', class: 'title',
    transform: `rotate(-90 14 ${(CHART.top + CHART.height - CHART.bottom) / 2})`,
  }, yTitle));
  svg.append(axis);
  return { x, y };
}

/** A vertical marker for a network with no published accuracy: its cost is known, its accuracy is not. */
function costMarker(svg, x, macs, label, className, row) {
  const group = svgElement('g', { class: `marker ${className}` });
  group.append(svgElement('line', { x1: x(macs), y1: CHART.top, x2: x(macs), y2: CHART.height - CHART.bottom }));
  group.append(svgElement('text', { x: x(macs) + 4, y: CHART.top + 12 + row * 13 }, label));
  svg.append(group);
}

/**
 * Wires the explorer section of index.html (a details element: nothing runs until it is opened).
 * `#explorer[data-state]` is `closed` until then, `ready` once the counts
 * and drawings follow the knobs; `#explorer-measure[data-state]` is `waiting`, `measuring`,
 * `done`, `skipped` (too large to time here) or `error`.
 */
export function createScalingExplorer() {
  const knobs = { phi: byId('phi'), alpha: byId('alpha'), beta: byId('beta'), gamma: byId('gamma') };
  const official = OFFICIAL.map((variant) => {
    const network = buildNetwork(variant);
    const { resolution } = VARIANTS[variant];
    const { params, macs } = summarizeNetwork(network, resolution);
    return { variant, network, resolution, params, macs, top1: PUBLISHED_TOP1[variant], measured: null };
  });
  /** The network on show: the summary of the knobs' compound network. */
  let current = null;
  /** Single-axis matches shown, or null: { axis, rows: [{ phi, compound, single }] }. */
  let singleAxis = null;
  /** The last timing of the network on show: { key, side, macs, milliseconds }. */
  let measuredCurrent = null;
  /** Counts knob changes, so a slow measurement of an older network does not overwrite a newer one. */
  let generation = 0;
  let measureTimer = null;
  /** One measurement at a time: they share the page's single thread and memory. */
  let measuring = Promise.resolve();

  const knobValues = () => Object.fromEntries(Object.entries(knobs).map(([name, input]) => [name, Number(input.value)]));
  const keyOf = ({ phi, alpha, beta, gamma }) => `${phi}|${alpha}|${beta}|${gamma}`;

  function renderCostFactor(bases) {
    const factor = compoundCostFactor(bases);
    const element = byId('cost-factor');
    setNumber('cost-factor-value', factor, fixed(factor, 3));
    // Within 5% of 2 counts as the paper's "about 2"; its own bases give 1.92.
    element.dataset.verdict = Math.abs(factor - 2) <= 0.1 ? 'near' : factor > 2 ? 'over' : 'under';
    byId('cost-factor-verdict').textContent = element.dataset.verdict === 'near'
      ? 'each step of φ about doubles the multiply-adds'
      : `each step of φ multiplies the multiply-adds by about ${fixed(factor, 2)}, ${element.dataset.verdict === 'over' ? 'more' : 'less'} than twice`;
    byId('cost-factor-bar').style.setProperty('--share', String(Math.min(factor / 4, 1)));
  }

  function renderNumbers(summary) {
    setNumber('explorer-depth', summary.depth, `${fixed(summary.depth, 3)} (${summary.blocks} blocks)`);
    setNumber('explorer-width', summary.width, `${fixed(summary.width, 3)} (stem ${summary.stemChannels}, head ${summary.headChannels} channels)`);
    setNumber('explorer-resolution', summary.resolution, `${summary.resolution}×${summary.resolution}`);
    setNumber('explorer-params', summary.params, `${summary.params.toLocaleString('en-US')} (${millions(summary.params)})`);
    setNumber('explorer-macs', summary.macs, `${summary.macs.toLocaleString('en-US')} (${giga(summary.macs)})`);
    setNumber('explorer-activations', summary.activationBytes, mebibytes(summary.activationBytes));
    const ratio = summary.macs / official[0].macs;
    byId('explorer-growth').textContent = `${fixed(ratio, 2)}× B0's multiply-adds; the rule's own estimate is ` +
      `${fixed(summary.costFactor, 3)}^φ = ${fixed(summary.costFactor ** summary.phi, 2)}× (the difference is channel and block rounding).`;
  }

  /** The library's own network drawing, loaded on first use so the rest of the page never waits for it. */
  async function renderDiagram(summary) {
    const figure = byId('explorer-network');
    try {
      const { networkDiagram } = await import('../dist/diagram/network-diagram.js');
      if (summary !== current) return;
      figure.innerHTML = networkDiagram(summary.network, summary.resolution);
      figure.dataset.blocks = String(summary.blocks);
    } catch (error) {
      figure.textContent = `The network drawing failed: ${error.message ?? String(error)}`;
    }
  }

  function renderOfficialTable() {
    byId('official-table').tBodies[0].replaceChildren(...official.map((o) => {
      const row = document.createElement('tr');
      row.dataset.variant = o.variant;
      const cells = [
        `B${o.variant.slice(1)}`, `${o.top1.toFixed(1)}%`, `${o.resolution}`, millions(o.params), giga(o.macs), PUBLISHED_COST[o.variant],
        o.measured === null ? '–' : `${o.measured.milliseconds.toFixed(1)} ms at ${o.measured.side}×${o.measured.side}`,
      ];
      for (const text of cells) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }));
  }

  /** Accuracy against cost: the official points, and vertical markers for networks with no published accuracy. */
  function renderAccuracyChart() {
    const svg = byId('accuracy-chart');
    svg.replaceChildren();
    const costs = [...official.map((o) => o.macs), current.macs, ...(singleAxis?.rows.map((r) => r.single.macs) ?? [])];
    const xRange = [Math.min(...costs) / 1.5, Math.max(...costs) * 1.5];
    const { x, y } = chartFrame(svg, xRange, (from, to) => (value) => from + ((value - 76) / (85 - 76)) * (to - from),
      [76, 78, 80, 82, 84], 'multiply-adds per image (G, log scale)', 'ImageNet top-1 (%)', (tick) => `${tick}`);
    const line = svgElement('polyline', { class: 'official-line', points: official.map((o) => `${x(o.macs)},${y(o.top1)}`).join(' ') });
    svg.append(line);
    for (const o of official) {
      const group = svgElement('g', { class: 'official', 'data-variant': o.variant });
      group.append(svgElement('circle', { cx: x(o.macs), cy: y(o.top1), r: 4 }));
      group.append(svgElement('text', { x: x(o.macs) + 6, y: y(o.top1) + 14 }, `B${o.variant.slice(1)} ${o.top1.toFixed(1)}`));
      svg.append(group);
    }
    costMarker(svg, x, current.macs, `φ = ${current.phi}: no published accuracy`, 'current', 0);
    singleAxis?.rows.forEach((r, i) => costMarker(svg, x, r.single.macs, `${AXIS_LABEL[singleAxis.axis]}, cost of φ = ${r.phi}`, `single ${singleAxis.axis}`, i + 1));
  }

  /** Measured milliseconds against the multiply-adds of the measured pass, log-log. */
  function renderTimingChart() {
    const svg = byId('timing-chart');
    svg.replaceChildren();
    const points = official.filter((o) => o.measured !== null).map((o) => ({ label: `B${o.variant.slice(1)}`, ...o.measured, className: 'official' }));
    if (measuredCurrent !== null) points.push({ label: `φ = ${current.phi}`, ...measuredCurrent, className: 'current' });
    if (points.length === 0) return;
    const xRange = [Math.min(...points.map((p) => p.macs)) / 1.5, Math.max(...points.map((p) => p.macs)) * 1.5];
    const times = points.map((p) => p.milliseconds);
    const [low, high] = [Math.min(...times) / 1.5, Math.max(...times) * 1.5];
    const { x, y } = chartFrame(svg, xRange, (from, to) => logScale(low, high, from, to), logTicks(low, high),
      'multiply-adds of the measured pass (G, log scale)', 'milliseconds (log scale)', (tick) => `${tick}`);
    for (const p of points) {
      const group = svgElement('g', { class: p.className });
      group.append(svgElement('circle', { cx: x(p.macs), cy: y(p.milliseconds), r: 4 }));
      group.append(svgElement('text', { x: x(p.macs) + 6, y: y(p.milliseconds) - 6 }, p.label));
      svg.append(group);
    }
  }

  function renderSingleAxisTable() {
    const table = byId('single-axis-table');
    table.hidden = singleAxis === null;
    if (singleAxis === null) return;
    table.tBodies[0].replaceChildren(...singleAxis.rows.map(({ phi, compound, single }) => {
      const row = document.createElement('tr');
      row.dataset.phi = String(phi);
      const { width, depth, resolution } = single.coefficients;
      const cells = [
        `${phi}`, `d ${fixed(compound.depth, 3)}, w ${fixed(compound.width, 3)}, r ${compound.resolution}`, giga(compound.macs),
        `d ${fixed(depth, 3)}, w ${fixed(width, 3)}, r ${resolution}`, giga(single.macs), millions(single.params),
      ];
      for (const text of cells) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      row.dataset.macs = String(single.macs);
      return row;
    }));
  }

  function renderMeasurement() {
    const box = byId('measured-current');
    if (measuredCurrent === null) {
      delete box.dataset.milliseconds;
      return;
    }
    const { side, macs, milliseconds } = measuredCurrent;
    box.dataset.milliseconds = String(milliseconds);
    box.dataset.side = String(side);
    box.dataset.macs = String(macs);
    box.textContent = `This network, measured here: ${milliseconds.toFixed(1)} ms per forward pass at ${side}×${side} ` +
      `(${giga(macs)} multiply-adds, ${fixed(macs / milliseconds / 1e6, 2)} G multiply-adds per second).`;
  }

  function setMeasureState(state, text) {
    byId('explorer-measure').dataset.state = state;
    byId('measure-status').textContent = text;
  }

  /** Queues `task` behind any running measurement, so two never share the thread. */
  function enqueue(task) {
    measuring = measuring.then(task, task);
    return measuring;
  }

  function scheduleMeasurement() {
    clearTimeout(measureTimer);
    measuredCurrent = null;
    renderMeasurement();
    renderTimingChart();
    const summary = current;
    const mine = generation;
    if (summary.params > MAX_MEASURED_PARAMS) {
      setMeasureState('skipped', `Not timed: ${millions(summary.params)} parameters is above the ${millions(MAX_MEASURED_PARAMS)} ` +
        'this page times (its synthetic weights alone would be over 280 MB).');
      return;
    }
    setMeasureState('waiting', 'Timing starts when the knobs rest…');
    measureTimer = setTimeout(() => enqueue(async () => {
      if (mine !== generation) return;
      setMeasureState('measuring', `Timing φ = ${summary.phi} on synthetic weights…`);
      await nextFrame();
      try {
        const result = await measureForward(summary.network.coefficients, summary.network, summary.resolution);
        if (mine !== generation) return;
        measuredCurrent = { key: keyOf(summary), ...result };
        renderMeasurement();
        renderTimingChart();
        setMeasureState('done', 'Timed.');
      } catch (error) {
        if (mine !== generation) return;
        setMeasureState('error', `${error.name ?? 'Error'}: ${error.message ?? String(error)}`);
      }
    }), MEASURE_DELAY);
  }

  function update() {
    const values = knobValues();
    for (const [name, value] of Object.entries(values)) byId(`${name}-value`).textContent = name === 'phi' ? fixed(value, 1) : fixed(value, 2);
    renderCostFactor(values);
    generation++;
    singleAxis = null;
    renderSingleAxisTable();
    try {
      current = summarizeCompoundScaling(values);
    } catch (error) {
      // A knob combination past the builder's limits: say which, keep the last network on show.
      byId('explorer').dataset.state = 'error';
      byId('explorer-error').textContent = `${error.name ?? 'Error'}: ${error.message ?? String(error)}`;
      byId('explorer-error').hidden = false;
      return;
    }
    byId('explorer-error').hidden = true;
    renderNumbers(current);
    renderAccuracyChart();
    scheduleMeasurement();
    byId('explorer').dataset.state = 'ready';
    renderDiagram(current);
  }

  /** One knob alone, scaled to the multiply-adds of phi = 1, 2, 3 with the current bases. */
  function showSingleAxis(axis) {
    const values = knobValues();
    const rows = TARGET_PHIS.map((phi) => {
      const compound = summarizeCompoundScaling({ ...values, phi });
      return { phi, compound, single: scaleOneAxis(axis, compound.macs) };
    });
    singleAxis = { axis, rows };
    renderSingleAxisTable();
    renderAccuracyChart();
    byId('single-axis-table').dataset.axis = axis;
  }

  async function measureOfficial() {
    const button = byId('measure-official');
    button.disabled = true;
    await enqueue(async () => {
      for (const o of official) {
        if (o.measured !== null) continue;
        setMeasureState('measuring', `Timing ${o.variant.toUpperCase()} on synthetic weights…`);
        await nextFrame();
        try {
          o.measured = await measureForward(o.variant, o.network, o.resolution);
        } catch (error) {
          setMeasureState('error', `${o.variant}: ${error.name ?? 'Error'}: ${error.message ?? String(error)}`);
          return;
        }
        renderOfficialTable();
        renderTimingChart();
      }
      byId('official-table').dataset.measured = 'all';
      setMeasureState(measuredCurrent === null ? 'waiting' : 'done', 'Timed B0–B7.');
    });
    button.disabled = false;
  }

  const section = byId('explorer');
  /** Nothing is built or timed until the section is first opened, so the page's first load is unchanged. */
  let started = false;
  const start = () => {
    if (!section.open || started) return;
    started = true;
    renderOfficialTable();
    update();
  };
  for (const input of Object.values(knobs)) input.addEventListener('input', () => started && update());
  byId('paper-bases').addEventListener('click', () => {
    if (!started) return;
    knobs.alpha.value = String(PAPER_COMPOUND.alpha);
    knobs.beta.value = String(PAPER_COMPOUND.beta);
    knobs.gamma.value = String(PAPER_COMPOUND.gamma);
    update();
  });
  for (const button of document.querySelectorAll('#single-axis-buttons button')) {
    button.addEventListener('click', () => started && showSingleAxis(button.dataset.axis));
  }
  byId('measure-official').addEventListener('click', () => started && measureOfficial());
  byId('published-source').textContent = PAPER_REFERENCE;
  section.addEventListener('toggle', start);
  start();
}
