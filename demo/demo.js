// The demo page: pick a model, pick a photo, see the top 5, the latency, the feature-map sizes and,
// on request, the network's insides.
// Plain ES module over the library's compiled dist/; `efficientnet demo` serves both.
import * as efficientnet from '../dist/index.js';
import { createInsideView } from './inside.js';
import { createScalingExplorer } from './explorer.js';

const { EfficientNet, PRESETS, VARIANT_NAMES, createSyntheticWeights, variantTitle } = efficientnet;

// For experimenting in the browser console.
window.efficientnet = efficientnet;

/** The photos shipped in the package's data/images/. */
const EXAMPLE_PHOTOS = ['chelsea.png', 'grace_hopper.jpg', 'panda.jpg'];
const DEFAULT_ARCHITECTURE = 'preset:tf_efficientnet_b0.ns_jft_in1k';
/** Classified as soon as the page loads, so the results card is never empty. */
const FIRST_PHOTO = 'panda.jpg';
const SYNTHETIC_SEED = 0;

const byId = (id) => document.getElementById(id);
const architecture = byId('architecture');
const threadsChoice = byId('threads');
const relaxedChoice = byId('relaxed-simd');
const weightsFileInput = byId('weights-file');

/** The loaded model for the current choices: { key, ready: Promise<{ net, synthetic }> }. */
let model = null;
/** The checkpoint chosen from disk: { name, bytes, version }; the version tells two files of one name apart. */
let weightsFile = null;
/** The photo on show, re-classified when the model changes: { bytes, url }. */
let photo = null;
/** Counts runs, so a slow run finishing after a newer one does not overwrite its results. */
let latestRun = 0;
/** The "inside the network" view, shown the photo after each classification. */
const inside = createInsideView();

function setState(state) {
  document.body.dataset.state = state;
}

/**
 * The weights in use: `file` only once a file has been chosen. Until then the file radio changes
 * nothing (the model keeps its synthetic weights) and the status line says what to do.
 */
function weightsChoice() {
  const checked = document.querySelector('input[name="weights"]:checked').value;
  return checked === 'file' && weightsFile === null ? 'synthetic' : checked;
}

function fillArchitectures() {
  for (const preset of PRESETS) {
    byId('preset-options').append(new Option(`${preset.name} (${preset.variant}, ${preset.inputSize}px)`, `preset:${preset.name}`));
  }
  for (const variant of VARIANT_NAMES) {
    byId('variant-options').append(new Option(variantTitle(variant), `variant:${variant}`));
  }
  architecture.value = DEFAULT_ARCHITECTURE;
}

function fillExamples() {
  for (const name of EXAMPLE_PHOTOS) {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.photo = name;
    const thumbnail = new Image();
    thumbnail.src = `../data/images/${name}`;
    thumbnail.alt = name;
    button.append(thumbnail, name);
    button.addEventListener('click', () => showExample(name));
    byId('examples').append(button);
  }
}

/** create() options for the chosen threads and SIMD build. */
function engineOptions() {
  return {
    threads: threadsChoice.value === 'auto' ? 'auto' : 1,
    simd: relaxedChoice.checked ? 'relaxed' : 'deterministic',
  };
}

/** What the model runs on, and why not what was asked for, if so. */
function describeEngine(net) {
  const threads = `${net.threading.threads} thread${net.threading.threads === 1 ? '' : 's'}`;
  const notes = [net.threading.reason, net.simd.reason].filter((reason) => reason !== undefined);
  return `${threads}, ${net.simd.mode} SIMD${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

/** create() options for the chosen architecture, and the variant to make synthetic weights for. */
function architectureOptions() {
  const [kind, name] = architecture.value.split(':');
  if (kind === 'preset') {
    const preset = PRESETS.find((p) => p.name === name);
    return { options: { model: name }, variant: preset.variant, numClasses: preset.numClasses };
  }
  return { options: { variant: name }, variant: name, numClasses: 1000 };
}

async function loadModel() {
  const { options, variant, numClasses } = architectureOptions();
  const started = performance.now();
  let weights;
  let synthetic;
  if (weightsChoice() === 'synthetic') {
    weights = createSyntheticWeights({ variant, seed: SYNTHETIC_SEED, numClasses });
    synthetic = true;
  } else {
    if (!weightsFile) throw new Error('choose a weights file (.safetensors, .pth, .h5), or use synthetic weights');
    weights = weightsFile.bytes;
  }
  // Any supported format (chosen by its magic bytes) and name scheme; the model says whether it is synthetic.
  const net = await EfficientNet.create({ ...options, ...engineOptions(), weights });
  synthetic = net.synthetic;
  const source = synthetic ? 'synthetic weights' : weightsFile.name;
  const size = net.recipe.size;
  byId('model-status').textContent =
    `EfficientNet-${net.network.name.toUpperCase()}, ${source}, input ${size}x${size}, ${describeEngine(net)}: ` +
    `ready in ${Math.round(performance.now() - started)} ms`;
  return { net, synthetic };
}

/** The model for the current choices, created on first use and kept until a choice changes. */
function currentModel() {
  const key = `${architecture.value}|${weightsChoice()}|${weightsChoice() === 'file' ? weightsFile?.version : SYNTHETIC_SEED}|` +
    `${threadsChoice.value}|${relaxedChoice.checked}`;
  if (model?.key !== key) {
    model?.ready.then(({ net }) => net.dispose(), () => {});
    model = { key, ready: loadModel() };
    model.ready.catch(() => {
      model = null;
      byId('model-status').textContent = 'no model loaded: see the error below';
    });
  }
  return model.ready;
}

/** Results of an earlier photo or model must not stand beside an error, as if they were its answer. */
function clearResults() {
  byId('top5').replaceChildren();
  byId('latency').textContent = '';
  byId('synthetic-warning').hidden = true;
  byId('feature-maps').hidden = true;
  byId('feature-maps').tBodies[0].replaceChildren();
  inside.clear();
}

function showError(error) {
  clearResults();
  const box = byId('error');
  box.textContent = `${error.name ?? 'Error'}: ${error.message ?? String(error)}`;
  box.hidden = false;
}

function renderTop5(predictions, synthetic) {
  byId('synthetic-warning').hidden = !synthetic;
  const list = byId('top5');
  list.replaceChildren(...predictions.map((p) => {
    const item = document.createElement('li');
    const label = document.createElement('span');
    label.className = 'label';
    label.textContent = p.label;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.setProperty('--probability', String(p.probability));
    const value = document.createElement('span');
    value.className = 'value';
    value.textContent = `${(p.probability * 100).toFixed(1)}%`;
    item.append(label, bar, value);
    return item;
  }));
}

function renderFeatureMaps(maps) {
  const table = byId('feature-maps');
  table.tBodies[0].replaceChildren(...maps.map((m) => {
    const row = document.createElement('tr');
    for (const text of [m.name, String(m.stride), `${m.channels} x ${m.height} x ${m.width}`]) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  }));
  table.hidden = false;
}

async function classifyPhoto() {
  if (!photo) return;
  const run = ++latestRun;
  setState('busy');
  byId('error').hidden = true;
  inside.clear();
  try {
    const { net, synthetic } = await currentModel();
    const started = performance.now();
    const predictions = await net.classify(photo.bytes, { topk: 5 });
    const milliseconds = performance.now() - started;
    const maps = await net.features(photo.bytes);
    if (run !== latestRun) return;
    renderTop5(predictions, synthetic);
    byId('latency').textContent = `classify: ${milliseconds.toFixed(1)} ms (decode, preprocess, network and softmax)`;
    renderFeatureMaps(maps);
    setState('done');
    inside.show(net, photo.bytes);
  } catch (error) {
    if (run !== latestRun) return;
    showError(error);
    setState('error');
  }
}

function showPhoto(bytes, url) {
  if (photo?.url.startsWith('blob:')) URL.revokeObjectURL(photo.url);
  photo = { bytes, url };
  const preview = byId('preview');
  preview.src = url;
  preview.hidden = false;
  return classifyPhoto();
}

async function showExample(name) {
  setState('busy'); // at once, before the fetch: whoever waits for the results must not see the last ones
  const url = `../data/images/${name}`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  await showPhoto(new Uint8Array(await response.arrayBuffer()), url);
}

async function showPhotoFile(file) {
  setState('busy');
  await showPhoto(new Uint8Array(await file.arrayBuffer()), URL.createObjectURL(file));
}

async function useWeightsFile(file) {
  weightsFile = { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()), version: (weightsFile?.version ?? 0) + 1 };
  document.querySelector('input[name="weights"][value="file"]').checked = true;
  await classifyPhoto();
}

/** Names of weights files the loader reads (it decides the format from the bytes, not the name). */
const WEIGHTS_EXTENSIONS = /\.(safetensors|pth|pt|bin|h5)$/i;

/** A file dropped anywhere: a checkpoint by its extension, anything else as a photo. */
async function onDrop(event) {
  event.preventDefault();
  for (const file of event.dataTransfer.files) {
    if (WEIGHTS_EXTENSIONS.test(file.name)) await useWeightsFile(file);
    else await showPhotoFile(file);
  }
}

function reportFailures(promise) {
  promise.catch((error) => {
    showError(error);
    setState('error');
  });
}

fillArchitectures();
fillExamples();
byId('environment').textContent =
  `cross-origin isolated: ${window.crossOriginIsolated ? 'yes' : 'no'} · ${navigator.hardwareConcurrency} logical cores`;
architecture.addEventListener('change', () => reportFailures(classifyPhoto()));
threadsChoice.addEventListener('change', () => reportFailures(classifyPhoto()));
relaxedChoice.addEventListener('change', () => reportFailures(classifyPhoto()));
for (const radio of document.querySelectorAll('input[name="weights"]')) {
  radio.addEventListener('change', () => {
    if (radio.value === 'file' && weightsFile === null) {
      byId('model-status').textContent = 'choose a weights file: the model keeps its synthetic weights until one is chosen';
      return;
    }
    reportFailures(classifyPhoto());
  });
}
weightsFileInput.addEventListener('change', () => {
  if (weightsFileInput.files[0]) reportFailures(useWeightsFile(weightsFileInput.files[0]));
});
byId('photo-file').addEventListener('change', (event) => {
  if (event.target.files[0]) reportFailures(showPhotoFile(event.target.files[0]));
});
document.addEventListener('dragover', (event) => event.preventDefault());
document.addEventListener('drop', (event) => reportFailures(onDrop(event)));
createScalingExplorer();
setState('ready');
reportFailures(showExample(FIRST_PHOTO));
