/**
 * Keras 2 `.h5` weights: one implementation of the weight-source interface, read through the
 * optional pure-JavaScript HDF5 reader `jsfive` (loaded on demand).
 *
 * Keras 2 writes two layouts, and both are read:
 *
 *   save_weights   /                 attributes layer_names (every layer, weighted or not),
 *                                    backend, keras_version
 *                  /<layer>          attribute weight_names, e.g. ["stem_conv/kernel:0"]
 *                  /<layer>/<weight name>   a dataset; the name's "/" makes a subgroup
 *   model.save     the same under /model_weights, plus a root attribute model_config (JSON)
 *
 * Keras splits an attribute above 64 KB into `layer_names0`, `layer_names1`, … ; those are
 * joined. Layers without weights are skipped. Tensor names are the weight names exactly as Keras
 * wrote them (`block1a_dwconv/depthwise_kernel:0`), shapes in Keras's layouts; `naming/keras.ts`
 * maps them onto timm's names and PyTorch's layouts.
 *
 * The model's `normalization` layer (mean and "variance" on 0..1 pixels) becomes the source's
 * `normalization`; see `kerasNormalization` for the Rescaling that Keras puts after it.
 *
 * Memory: jsfive parses an ArrayBuffer holding the whole file. An in-memory file whose bytes
 * span their whole buffer is handed over as it is; any other source is copied into one buffer
 * once (a Keras B7 file is 260 MB). Tensor values are read one at a time on `readInto`,
 * straight from the file's bytes when they are contiguous little-endian float32, as Keras's are.
 *
 * Hostile files: jsfive throws strings and engine errors on damaged input; every such throw
 * becomes a WeightsFormatError. Sizes are checked before jsfive is asked for values: a dataset
 * must not declare more bytes than the file has, chunked datasets are refused, and the name
 * lists are capped; `jsfive-guards.ts` bounds jsfive's own loops over attributes and group
 * B-trees. jsfive also prints to the console on some damaged attributes; that is muted.
 */
import { ConfigError, EfficientNetError, WeightsFormatError, WeightsMismatchError } from '../../errors.js';
import { installJsfiveGuards, withGuards } from './jsfive-guards.js';
import { elementCount, type ByteSource, type SourceNormalization, type SourceTensor, type WeightDtype, type WeightSource } from '../source.js';

/** `\x89HDF\r\n\x1a\n`: HDF5's signature. Keras and h5py write it at offset 0 (no user block). */
export const HDF5_SIGNATURE: readonly number[] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

type JsfiveModule = typeof import('jsfive');
type Hdf5Node = import('jsfive').Hdf5Node;
type Hdf5Group = import('jsfive').Group;
type Hdf5Dataset = import('jsfive').Dataset;

/**
 * The package to install for this reader, named in the error when it is missing, at the version
 * package.json pins: the guards in jsfive-guards.ts are written against that version's internals.
 */
export const HDF5_PACKAGE = 'jsfive@0.4.2';

/**
 * The optional package's name, held in a variable and imported with the bundlers' ignore
 * comments: the package named literally in import() makes Vite, webpack and esbuild fail a browser build
 * wherever the optional package is not installed (`npm install --omit=optional`).
 */
const JSFIVE_SPECIFIER: string = 'jsfive';

/** jsfive on demand: it is an optional dependency, needed only for Keras files. */
async function loadJsfive(): Promise<Pick<JsfiveModule, 'File'>> {
  try {
    const module = (await import(/* @vite-ignore */ /* webpackIgnore: true */ JSFIVE_SPECIFIER)) as JsfiveModule;
    if (typeof module.File !== 'function') throw new Error('no File export');
    installJsfiveGuards(module.File);
    return module;
  } catch {
    throw new ConfigError(`reading Keras .h5 weights needs the optional package ${HDF5_PACKAGE}: run npm install ${HDF5_PACKAGE}`);
  }
}

/** Every failure inside jsfive, whatever it threw, as one line of a WeightsFormatError. */
function hdf5Error(what: string, error: unknown): EfficientNetError {
  if (error instanceof EfficientNetError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  // jsfive's messages quote file bytes; keep them to one short printable line.
  const clean = detail.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 160);
  return new WeightsFormatError(`Keras .h5 file: ${what} cannot be read, the HDF5 structure is damaged${clean ? ` (${clean})` : ''}`);
}

/**
 * Runs `read` (a jsfive call), turning any failure into a WeightsFormatError about `what`. jsfive
 * also prints to the console on some damaged attributes ("type not implemented"); a library
 * must not write to its caller's console, so the console is muted for the (synchronous) call.
 */
function guarded<T>(what: string, read: () => T): T {
  const { warn, log } = console;
  console.warn = console.log = () => undefined;
  try {
    return withGuards(read);
  } catch (error) {
    throw hdf5Error(what, error);
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

/**
 * More names than any Keras EfficientNet has layers (B7 has about 800): past this a list is
 * refused. It also bounds the groups a hostile file can make the reader list.
 */
const MAX_LIST_ITEMS = 10_000;
/** Longest layer or weight name accepted; Keras's are a few dozen characters. */
const MAX_NAME_CHARS = 1024;
/** A model_config attribute longer than this is not parsed (B7's is about 1 MB). */
const MAX_CONFIG_CHARS = 64 * 1024 * 1024;

/** h5py stores Keras's names as fixed-length byte strings, padded with NULs. */
function cleanName(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new WeightsFormatError(`Keras .h5 file: ${what} holds a ${typeof value}, expected strings`);
  const name = value.replace(/\0+$/, '');
  if (name.length === 0 || name.length > MAX_NAME_CHARS || /[\0-\x1f]/.test(name)) {
    throw new WeightsFormatError(`Keras .h5 file: ${what} holds a name that is empty, too long or has control characters`);
  }
  return name;
}

/**
 * A list attribute such as `layer_names`, joined from Keras's chunks (`name0`, `name1`, …) when
 * it was split; undefined when absent. An empty float array (what Keras writes for no names)
 * is an empty list.
 */
function nameList(node: Hdf5Node, attribute: string, where: string): string[] | undefined {
  const attrs = guarded(`the attributes of ${where}`, () => node.attrs);
  const what = `attribute ${attribute} of ${where}`;
  const chunks: unknown[] = [];
  if (attribute in attrs) chunks.push(attrs[attribute]);
  else for (let i = 0; `${attribute}${i}` in attrs; i++) chunks.push(attrs[`${attribute}${i}`]);
  if (chunks.length === 0) return undefined;
  const names: string[] = [];
  for (const chunk of chunks) {
    const items = typeof chunk === 'string' ? [chunk] : chunk;
    if (!Array.isArray(items)) throw new WeightsFormatError(`Keras .h5 file: ${what} is not a list of names`);
    if (names.length + items.length > MAX_LIST_ITEMS) throw new WeightsFormatError(`Keras .h5 file: ${what} lists more than ${MAX_LIST_ITEMS} names`);
    for (const item of items) names.push(cleanName(item, what));
  }
  return names;
}

/** jsfive's dtype spelling (numpy's, e.g. `<f4`) -> ours, with its byte size. */
function weightDtype(dtype: unknown, name: string): { dtype: WeightDtype; bytes: number; littleEndian: boolean } {
  const match = typeof dtype === 'string' ? /^([<>|=]?)([fiu])(\d+)$/.exec(dtype) : null;
  const found = match ? DTYPES[`${match[2]}${match[3]}`] : undefined;
  if (match === null || found === undefined) {
    throw new WeightsFormatError(`Keras .h5 file: weight "${name}" has the type ${typeof dtype === 'string' ? dtype : 'of a compound or string'}, not a number type`);
  }
  return { ...found, littleEndian: match[1] !== '>' };
}
const DTYPES: Readonly<Record<string, { dtype: WeightDtype; bytes: number }>> = {
  f8: { dtype: 'F64', bytes: 8 }, f4: { dtype: 'F32', bytes: 4 }, f2: { dtype: 'F16', bytes: 2 },
  i8: { dtype: 'I64', bytes: 8 }, i4: { dtype: 'I32', bytes: 4 }, i2: { dtype: 'I16', bytes: 2 }, i1: { dtype: 'I8', bytes: 1 },
  u8: { dtype: 'U64', bytes: 8 }, u4: { dtype: 'U32', bytes: 4 }, u2: { dtype: 'U16', bytes: 2 }, u1: { dtype: 'U8', bytes: 1 },
};
const FLOAT_DTYPES: ReadonlySet<WeightDtype> = new Set(['F64', 'F32', 'F16']);

interface KerasTensor extends SourceTensor {
  /** The dataset, opened once when the file is listed. */
  readonly dataset: Hdf5Dataset;
  readonly byteLength: number;
  /** Stored little-endian (numpy's `<`; also single bytes, which have no order). */
  readonly littleEndian: boolean;
}

function checkShape(shape: unknown, name: string): number[] {
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((size) => Number.isSafeInteger(size) && size >= 0)) {
    throw new WeightsFormatError(`Keras .h5 file: weight "${name}" has an invalid shape`);
  }
  return shape as number[];
}

/** The group holding the layer groups: the root (save_weights) or /model_weights (model.save). */
function weightsRoot(file: Hdf5Group): { root: Hdf5Group; layers: string[] } {
  const rootLayers = nameList(file, 'layer_names', 'the file');
  if (rootLayers !== undefined) return { root: file, layers: rootLayers };
  const keys = guarded('the root group', () => file.keys);
  if (keys.includes('model_weights')) {
    const root = guarded('group model_weights', () => file.get('model_weights'));
    if (root === null || !('keys' in root)) throw new WeightsFormatError('Keras .h5 file: model_weights is not a group');
    const layers = nameList(root, 'layer_names', 'model_weights');
    if (layers !== undefined) return { root, layers };
  }
  if (keys.includes('layers') || keys.includes('_layer_checkpoint_dependencies')) {
    throw new WeightsFormatError(
      "this is Keras 3's .weights.h5 layout (layers/<name>/vars/<n>), which is not read: save the model with model.save('model.h5') " +
        '(Keras 2 layout) and pass that file',
    );
  }
  throw new WeightsFormatError(
    'not a Keras weights file: the HDF5 file has no layer_names attribute, neither at its root (save_weights) nor on model_weights (model.save)',
  );
}

/**
 * Opens groups by path from `root`, each once: jsfive parses a group's header and B-tree every
 * time it is opened, and every weight of a layer sits under the same one or two groups.
 */
function groupOpener(root: Hdf5Group): (path: readonly string[]) => Hdf5Group {
  const opened = new Map<string, Hdf5Group>([['', root]]);
  return (path) => {
    let group = root;
    for (let i = 0; i < path.length; i++) {
      const key = path.slice(0, i + 1).join('/');
      let next = opened.get(key);
      if (next === undefined) {
        const child = guarded(`group "${key}"`, () => group.get(path[i]));
        if (child === null || !('keys' in child)) throw new WeightsFormatError(`Keras .h5 file: "${key}" is not a group`);
        next = child;
        opened.set(key, next);
      }
      group = next;
    }
    return group;
  };
}

function listTensors(file: Hdf5Group, byteLength: number): Map<string, KerasTensor> {
  const { root, layers } = weightsRoot(file);
  const openGroup = groupOpener(root);
  const tensors = new Map<string, KerasTensor>();
  for (const layer of new Set(layers)) {
    // A layer or weight name with an empty part ("a//b", a leading "/") would make jsfive look elsewhere.
    const layerPath = layer.split('/');
    if (layerPath.includes('')) throw new WeightsFormatError(`Keras .h5 file: layer name "${layer}" has an empty part`);
    const group = openGroup(layerPath);
    const weightNames = nameList(group, 'weight_names', `layer "${layer}"`) ?? [];
    for (const name of weightNames) {
      if (tensors.has(name)) throw new WeightsFormatError(`Keras .h5 file: weight "${name}" appears twice`);
      const path = [...layerPath, ...name.split('/')];
      if (path.includes('')) throw new WeightsFormatError(`Keras .h5 file: weight name "${name}" has an empty part`);
      const parent = openGroup(path.slice(0, -1));
      const dataset = guarded(`weight "${name}"`, () => parent.get(path[path.length - 1]));
      if (dataset === null || !('shape' in dataset)) throw new WeightsFormatError(`Keras .h5 file: weight "${name}" is listed but has no dataset`);
      // Keras writes contiguous datasets; chunked ones (resizable or compressed) would take
      // jsfive through chunk B-trees and inflation that nothing here bounds.
      const chunked = guarded(`the layout of "${name}"`, () => (dataset as unknown as { _dataobjects?: { chunks?: unknown } })._dataobjects?.chunks);
      if (chunked !== null && chunked !== undefined) {
        throw new WeightsFormatError(`Keras .h5 file: weight "${name}" is stored in chunks (resizable or compressed), which Keras does not write; save the weights again with Keras`);
      }
      const shape = checkShape(guarded(`the shape of "${name}"`, () => dataset.shape), name);
      const { dtype, bytes, littleEndian } = weightDtype(guarded(`the type of "${name}"`, () => dataset.dtype), name);
      const tensorBytes = elementCount(shape) * bytes;
      // Keras stores weights uncompressed, so a dataset can never hold more bytes than the file.
      if (tensorBytes > byteLength) {
        throw new WeightsFormatError(`Keras .h5 file: weight "${name}" declares ${tensorBytes} bytes, more than the whole ${byteLength}-byte file`);
      }
      tensors.set(name, { name, dtype, shape: Object.freeze([...shape]), dataset, byteLength: tensorBytes, littleEndian });
    }
  }
  return tensors;
}

/** jsfive's object header of a dataset, as far as the contiguous fast path reads it. */
interface DatasetObjects {
  readonly fh: ArrayBuffer;
  find_msg_type(type: number): Array<Map<string, unknown>>;
  _get_data_message_properties(offset: number): [number, number, number, number];
}

/** HDF5's data layout message, and its class for one contiguous block of bytes. */
const DATA_LAYOUT_MESSAGE = 0x0008;
const CONTIGUOUS_LAYOUT = 1;

/**
 * Where a contiguous dataset's bytes start in the file, or undefined for any other layout.
 * Keras writes every weight contiguous, so this is the usual case.
 */
function contiguousAddress(dataset: unknown): number | undefined {
  const objects = (dataset as { _dataobjects?: DatasetObjects })._dataobjects;
  const message = objects?.find_msg_type(DATA_LAYOUT_MESSAGE)[0];
  if (objects === undefined || message === undefined) return undefined;
  const [, , layout, propertyOffset] = objects._get_data_message_properties(Number(message.get('offset_to_message')));
  if (layout !== CONTIGUOUS_LAYOUT || propertyOffset + 8 > objects.fh.byteLength) return undefined;
  const view = new DataView(objects.fh, propertyOffset, 8);
  const address = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  return Number.isSafeInteger(address) ? address : undefined;
}

/**
 * Values of one dataset as float32 into `destination`. Little-endian float32 stored contiguous
 * (every weight Keras writes) is copied straight from the file's bytes; anything else goes
 * through jsfive's decoder, which builds a JavaScript array element by element (about four times
 * slower over a whole B0 file).
 */
function readDataset(bytes: ByteSource, tensor: KerasTensor, destination: Float32Array): void {
  const { dataset } = tensor;
  const address = tensor.dtype === 'F32' && tensor.littleEndian ? guarded(`weight "${tensor.name}"`, () => contiguousAddress(dataset)) : undefined;
  if (address !== undefined) {
    const raw = bytes.read(address, destination.length * 4); // [elements, float32 little-endian]; throws past the end
    if (raw.byteOffset % 4 === 0) {
      destination.set(new Float32Array(raw.buffer, raw.byteOffset, destination.length));
    } else {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < destination.length; i++) destination[i] = view.getFloat32(i * 4, true);
    }
    return;
  }
  const values = guarded(`the values of "${tensor.name}"`, () => dataset.value);
  if (values === null || typeof values !== 'object' || values.length !== destination.length) {
    throw new WeightsFormatError(`Keras .h5 file: weight "${tensor.name}" holds ${values?.length ?? 'no'} values, expected ${destination.length}`);
  }
  for (let i = 0; i < destination.length; i++) destination[i] = Number(values[i]);
}

/** ImageNet's per-channel standard deviations, which Keras's EfficientNet uses in its extra Rescaling. */
const IMAGENET_STDDEV_RGB: readonly [number, number, number] = [0.229, 0.224, 0.225];

/**
 * The per-channel factor Keras applies after the `normalization` layer. keras.applications'
 * EfficientNet, built with ImageNet weights, follows Normalization with Rescaling(1/sqrt(std))
 * because its stored "variance" is the ImageNet std itself: (x - mean) / sqrt(std) / sqrt(std)
 * is (x - mean) / std. A model.save file says in its config whether that layer is there; a
 * save_weights file does not, and is taken to follow the ImageNet build, which every file
 * Keras distributes and every fine-tune of one does.
 */
function rescaleAfterNormalization(file: Hdf5Group, normalizationLayer: string): readonly number[] {
  const imagenet = IMAGENET_STDDEV_RGB.map((std) => 1 / Math.sqrt(std));
  const attrs = guarded('the attributes of the file', () => file.attrs);
  const text = attrs.model_config;
  if (typeof text !== 'string' || text.length > MAX_CONFIG_CHARS) return imagenet;
  let config: unknown;
  try {
    config = JSON.parse(text.replace(/\0+$/, ''));
  } catch {
    return imagenet;
  }
  let rescaling: LayerConfig | undefined;
  try {
    rescaling = findRescalingAfter(config, normalizationLayer);
  } catch {
    // JSON.stringify overflows the stack on values nested thousands deep, which JSON.parse reads.
    throw new WeightsFormatError('Keras .h5 file: its model_config is nested too deeply to read');
  }
  if (rescaling === undefined) return Array.isArray((config as { config?: { layers?: unknown } } | null)?.config?.layers) ? [1, 1, 1] : imagenet;
  const scale = rescaling.config?.scale;
  const offset = rescaling.config?.offset ?? 0;
  const scales = typeof scale === 'number' ? [scale, scale, scale] : scale;
  if (offset !== 0 || !Array.isArray(scales) || scales.length !== 3 || !scales.every((s) => typeof s === 'number' && Number.isFinite(s) && s > 0)) {
    throw new WeightsFormatError(`Keras .h5 file: the Rescaling after "${normalizationLayer}" is not a positive per-channel scale without offset`);
  }
  return scales as number[];
}

interface LayerConfig {
  readonly class_name?: unknown;
  readonly config?: { readonly name?: unknown; readonly scale?: unknown; readonly offset?: unknown; readonly layers?: unknown };
  readonly inbound_nodes?: unknown;
}

/**
 * The Rescaling layer fed by `normalizationLayer`, searched through nested models too (a
 * fine-tuned model often holds EfficientNetB0 as one layer): in a Functional config its inbound
 * nodes name the normalization layer; in a Sequential one it simply comes next.
 */
function findRescalingAfter(config: unknown, normalizationLayer: string, depth = 0): LayerConfig | undefined {
  const layers = (config as LayerConfig | null)?.config?.layers;
  if (!Array.isArray(layers) || depth > 16) return undefined;
  for (let i = 0; i < layers.length; i++) {
    const entry = layers[i] as LayerConfig | null;
    if (entry === null || typeof entry !== 'object') continue;
    if (entry.class_name === 'Rescaling') {
      const fed = entry.inbound_nodes === undefined
        ? (layers[i - 1] as LayerConfig | undefined)?.config?.name === normalizationLayer
        : JSON.stringify(entry.inbound_nodes).includes(`"${normalizationLayer}"`);
      if (fed) return entry;
    }
    const nested = findRescalingAfter(entry, normalizationLayer, depth + 1);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

/** Keras's Normalization divides by max(sqrt(variance), this) (keras.backend.epsilon()). */
const NORMALIZATION_EPSILON = 1e-7;

/**
 * The mean and std on 0..1 pixels (Keras's first layer is Rescaling(1/255)) that the model's
 * `normalization` layer and the Rescaling after it amount to: (x - mean) / sqrt(variance) * scale,
 * that is std = sqrt(variance) / scale.
 */
function kerasNormalization(
  bytes: ByteSource, file: Hdf5Group, tensors: ReadonlyMap<string, KerasTensor>,
): SourceNormalization | undefined {
  // By the weight's own name, so a normalization layer inside a nested model is found too.
  const meanName = /^(?:.*\/)?(normalization(?:_\d+)?)\/mean(:\d+)?$/;
  const mean = [...tensors.values()].find((t) => meanName.test(t.name));
  if (mean === undefined) return undefined;
  const layer = meanName.exec(mean.name)![1];
  const variance = tensors.get(mean.name.replace(/\/mean(:\d+)?$/, '/variance$1'));
  const rgb = (tensor: KerasTensor | undefined): number[] => {
    if (tensor === undefined || elementCount(tensor.shape) !== 3 || !FLOAT_DTYPES.has(tensor.dtype)) {
      throw new WeightsFormatError(`Keras .h5 file: layer "${layer}" needs a mean and a variance of 3 values (one per RGB channel)`);
    }
    const values = new Float32Array(3); // [RGB]
    readDataset(bytes, tensor, values);
    return [...values];
  };
  const meanValues = rgb(mean);
  const varianceValues = rgb(variance);
  if (!meanValues.every(Number.isFinite) || !varianceValues.every((v) => Number.isFinite(v) && v > 0)) {
    throw new WeightsFormatError(`Keras .h5 file: layer "${layer}" has a non-finite mean or a variance that is not above 0`);
  }
  const scale = rescaleAfterNormalization(file, layer);
  const std = varianceValues.map((v, c) => Math.max(Math.sqrt(v), NORMALIZATION_EPSILON) / scale[c]);
  return Object.freeze({
    mean: Object.freeze([meanValues[0], meanValues[1], meanValues[2]]) as [number, number, number],
    std: Object.freeze([std[0], std[1], std[2]]) as [number, number, number],
  });
}

/** The whole file as one ArrayBuffer for jsfive, without a copy when the bytes already are one. */
function wholeBuffer(bytes: ByteSource): ArrayBuffer {
  const all = bytes.read(0, bytes.length);
  if (all.buffer instanceof ArrayBuffer && all.byteOffset === 0 && all.byteLength === all.buffer.byteLength) return all.buffer;
  return all.slice().buffer as ArrayBuffer;
}

/** Opens a Keras 2 `.h5` weights file (save_weights or model.save). */
export async function openKerasH5(bytes: ByteSource): Promise<WeightSource> {
  const head = bytes.read(0, Math.min(HDF5_SIGNATURE.length, bytes.length));
  if (head.length < HDF5_SIGNATURE.length || !HDF5_SIGNATURE.every((byte, i) => head[i] === byte)) {
    throw new WeightsFormatError('not an HDF5 file: it does not start with the HDF5 signature \\x89HDF\\r\\n\\x1a\\n');
  }
  const { File } = await loadJsfive();
  const file = guarded('the superblock and root group', () => new File(wholeBuffer(bytes), 'weights.h5'));
  const tensors = listTensors(file, bytes.length);
  const normalization = kerasNormalization(bytes, file, tensors);
  const keras = guarded('the attributes of the file', () => file.attrs.keras_version);
  const metadata: Record<string, string> = typeof keras === 'string' ? { keras_version: keras.replace(/\0+$/, '').slice(0, 64) } : {};
  const listed: ReadonlyMap<string, SourceTensor> = new Map([...tensors].map(([name, t]) => [name, { name, dtype: t.dtype, shape: t.shape }]));
  const readInto = (name: string, destination: Float32Array): void => {
    const tensor = tensors.get(name);
    if (tensor === undefined) throw new WeightsMismatchError(`tensor "${name}" is not in the Keras weights file`);
    if (!FLOAT_DTYPES.has(tensor.dtype)) throw new WeightsMismatchError(`tensor "${name}" is ${tensor.dtype}, not a float type`);
    const count = elementCount(tensor.shape);
    if (destination.length !== count) {
      throw new WeightsMismatchError(`tensor "${name}" has ${count} values but the destination holds ${destination.length}`);
    }
    readDataset(bytes, tensor, destination);
  };
  return { format: 'hdf5', tensors: listed, readInto, ...(normalization ? { normalization } : {}), metadata };
}
