/**
 * keras.applications.EfficientNetB0 … B7 names and layouts mapped onto timm's names and PyTorch's
 * layouts. Facts from Keras's `efficientnet.py`:
 *
 *   stem_conv, stem_bn                        -> conv_stem, bn1
 *   block{stage}{letter}_* (stage 1-7, letter a, b, … the block within the stage)
 *                                             -> blocks.{stage-1}.{letter index}.*
 *     with an expand conv (expand ratio > 1):   expand_conv expand_bn dwconv bn se_reduce se_expand project_conv project_bn
 *                                             -> conv_pw     bn1       conv_dw bn2 se.conv_reduce se.conv_expand conv_pwl bn3
 *     without (block1*):                        dwconv bn se_reduce se_expand project_conv project_bn
 *                                             -> conv_dw bn1 se.conv_reduce se.conv_expand conv_pw bn2
 *   top_conv, top_bn, predictions             -> conv_head, bn2, classifier
 *   (or, without `predictions`, a fine-tuned head's one Dense layer -> classifier; see classifierLayer)
 *   kernel / depthwise_kernel / bias          -> weight / weight / bias   (Keras 3 calls the depthwise one `kernel`)
 *   gamma / beta / moving_mean / moving_variance -> weight / bias / running_mean / running_var
 *
 * Layouts are transposed as each tensor is read:
 *   Conv2D kernel (kh, kw, in, out)            -> (out, in, kh, kw)
 *   DepthwiseConv2D kernel (kh, kw, C, 1)      -> (C, 1, kh, kw)
 *   Dense kernel (in, out)                     -> (out, in)
 *
 * Keras's SE reduces to max(1, int(block input channels * 0.25)), as timm's does, so the shapes
 * agree with no further rule. The `normalization` layer's tensors are left out: the reader
 * carries them as the source's `normalization`. A name that is none of the above passes through
 * unchanged, so the tensor check reports it as unexpected.
 */
import { WeightsFormatError, WeightsMismatchError } from '../../errors.js';
import type { SourceTensor, WeightSource } from '../source.js';
import { mappedSource, type TensorMapping } from './rename.js';

/**
 * `<layer>/<variable>:<n>` as Keras 2 names weights, or `<layer>/<variable>` as Keras 3's legacy
 * `.h5` writer does (a variable's path); the layer may carry an outer model's prefix
 * (`model/stem_conv/kernel:0`).
 */
const WEIGHT_NAME = /^(?:.*\/)?([^/]+)\/([^/:]+)(?::\d+)?$/;
const BLOCK_LAYER = /^block(\d+)([a-z])_(.+)$/;

export function isKerasNaming(names: readonly string[]): boolean {
  return names.some((name) => /(^|\/)stem_conv\/kernel(:\d+)?$/.test(name) || /(^|\/)block\d+[a-z]_dwconv\/(depthwise_)?kernel(:\d+)?$/.test(name));
}

const END_LAYERS: Readonly<Record<string, string>> = {
  stem_conv: 'conv_stem', stem_bn: 'bn1', top_conv: 'conv_head', top_bn: 'bn2',
};
const WITH_EXPAND: Readonly<Record<string, string>> = {
  expand_conv: 'conv_pw', expand_bn: 'bn1', dwconv: 'conv_dw', bn: 'bn2',
  se_reduce: 'se.conv_reduce', se_expand: 'se.conv_expand', project_conv: 'conv_pwl', project_bn: 'bn3',
};
const WITHOUT_EXPAND: Readonly<Record<string, string>> = {
  dwconv: 'conv_dw', bn: 'bn1', se_reduce: 'se.conv_reduce', se_expand: 'se.conv_expand', project_conv: 'conv_pw', project_bn: 'bn2',
};
const VARIABLES: Readonly<Record<string, string>> = {
  kernel: 'weight', depthwise_kernel: 'weight', bias: 'bias',
  gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var',
};

/** How a tensor's Keras layout becomes PyTorch's. */
type Layout = 'as-is' | 'conv' | 'depthwise' | 'dense';

/**
 * The Keras layer that is the classifier: `predictions`, or else, in a model fine-tuned on top
 * of `include_top=False` (EfficientNetB0, pooling, dropout, then a new `Dense` named `dense` or
 * anything else), the one layer that is not an EfficientNet layer and holds just a 2-D kernel
 * and a bias. More than one such layer means another head than a single Dense: none is chosen,
 * and the tensor check reports them all.
 */
function classifierLayer(parsed: ReadonlyArray<{ match: RegExpExecArray | null }>, source: WeightSource, expandedBlocks: ReadonlySet<string>): string | undefined {
  const variablesByLayer = new Map<string, string[]>();
  for (const { match } of parsed) {
    if (match === null) continue;
    const [, layer, variable] = match;
    variablesByLayer.set(layer, [...(variablesByLayer.get(layer) ?? []), variable]);
  }
  if (variablesByLayer.has('predictions')) return 'predictions';
  const candidates = [...variablesByLayer].filter(([layer, variables]) =>
    !/^normalization(_\d+)?$/.test(layer) && timmModule(layer, expandedBlocks, undefined) === undefined &&
    variables.length === 2 && variables.includes('kernel') && variables.includes('bias'));
  if (candidates.length !== 1) return undefined;
  const [layer] = candidates[0];
  const kernel = [...source.tensors.values()].find((t) => WEIGHT_NAME.exec(t.name)?.[1] === layer && WEIGHT_NAME.exec(t.name)?.[2] === 'kernel');
  return kernel !== undefined && kernel.shape.length === 2 ? layer : undefined;
}

/** The timm module of a Keras layer, or undefined if it is not an EfficientNet layer. */
function timmModule(layer: string, expandedBlocks: ReadonlySet<string>, classifier: string | undefined): string | undefined {
  if (layer === classifier) return 'classifier';
  if (layer in END_LAYERS) return END_LAYERS[layer];
  const block = BLOCK_LAYER.exec(layer);
  if (block === null) return undefined;
  const stage = Number(block[1]) - 1;
  const index = block[2].charCodeAt(0) - 'a'.charCodeAt(0);
  const part = block[3];
  const parts = expandedBlocks.has(`block${block[1]}${block[2]}`) ? WITH_EXPAND : WITHOUT_EXPAND;
  if (stage < 0 || !(part in parts)) return undefined;
  return `blocks.${stage}.${index}.${parts[part]}`;
}

/** Keras 2 calls a depthwise kernel `depthwise_kernel`; Keras 3 calls it `kernel`, like any other. */
function layoutOf(layer: string, variable: string, classifier: string | undefined): Layout {
  if (variable === 'depthwise_kernel' || (variable === 'kernel' && layer.endsWith('_dwconv'))) return 'depthwise';
  if (variable !== 'kernel') return 'as-is';
  return layer === classifier ? 'dense' : 'conv';
}

/** The PyTorch shape of a Keras tensor; throws if its rank does not fit its layout. */
function pytorchShape(tensor: SourceTensor, layout: Layout): number[] {
  const shape = tensor.shape;
  const fail = (expected: string): never => {
    throw new WeightsMismatchError(`Keras tensor "${tensor.name}" has shape [${shape.join(', ')}], expected ${expected}`);
  };
  switch (layout) {
    case 'conv':
      if (shape.length !== 4) fail('a 4-D Conv2D kernel (kh, kw, in, out)');
      return [shape[3], shape[2], shape[0], shape[1]];
    case 'depthwise':
      if (shape.length !== 4 || shape[3] !== 1) fail('a 4-D DepthwiseConv2D kernel (kh, kw, channels, 1)');
      return [shape[2], 1, shape[0], shape[1]];
    case 'dense':
      if (shape.length !== 2) fail('a 2-D Dense kernel (in, out)');
      return [shape[1], shape[0]];
    default:
      return [...shape];
  }
}

/**
 * Writes `keras` (laid out as `kerasShape`) into `out` in PyTorch's order. Each loop walks the
 * destination in order, reading the source with strides: `out` is usually WebAssembly memory.
 */
function transpose(keras: Float32Array, kerasShape: readonly number[], layout: Layout, out: Float32Array): void {
  if (layout === 'as-is') {
    out.set(keras);
    return;
  }
  if (layout === 'dense') {
    const [inputs, outputs] = kerasShape;
    for (let o = 0; o < outputs; o++) for (let i = 0; i < inputs; i++) out[o * inputs + i] = keras[i * outputs + o];
    return;
  }
  // conv: keras [kh, kw, in, out] -> out [out, in, kh, kw]; depthwise: keras [kh, kw, C, 1] -> out [C, 1, kh, kw],
  // which is the conv rule with in = C and out = 1 read as [C][1][kh][kw] = [in][out][kh][kw].
  const [kh, kw, inputs, outputs] = kerasShape;
  let at = 0;
  if (layout === 'conv') {
    for (let o = 0; o < outputs; o++) {
      for (let i = 0; i < inputs; i++) {
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[at++] = keras[((y * kw + x) * inputs + i) * outputs + o];
      }
    }
  } else {
    for (let c = 0; c < inputs; c++) {
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[at++] = keras[(y * kw + x) * inputs + c];
    }
  }
}

/** The Keras source under timm's names, each tensor transposed into PyTorch's layout as it is read. */
export function kerasToTimm(source: WeightSource): WeightSource {
  const parsed = [...source.tensors.keys()].map((name) => ({ name, match: WEIGHT_NAME.exec(name) }));
  const expandedBlocks = new Set<string>();
  for (const { match } of parsed) {
    const block = match ? /^(block\d+[a-z])_expand_conv$/.exec(match[1]) : null;
    if (block) expandedBlocks.add(block[1]);
  }
  const classifier = classifierLayer(parsed, source, expandedBlocks);
  const mappings = new Map<string, TensorMapping>();
  const place = (to: string, from: SourceTensor, layout: Layout): void => {
    if (mappings.has(to)) throw new WeightsFormatError(`Keras file: two tensors map onto "${to}", the second is "${from.name}"`);
    mappings.set(to, layout === 'as-is'
      ? { from: from.name }
      : { from: from.name, shape: Object.freeze(pytorchShape(from, layout)), relayout: (stored, out) => transpose(stored, from.shape, layout, out) });
  };
  for (const { name, match } of parsed) {
    const tensor = source.tensors.get(name)!;
    const layer = match?.[1];
    if (layer !== undefined && /^normalization(_\d+)?$/.test(layer)) continue; // carried as `normalization`
    const module = layer !== undefined ? timmModule(layer, expandedBlocks, classifier) : undefined;
    const variable = match ? VARIABLES[match[2]] : undefined;
    if (module === undefined || variable === undefined) place(name, tensor, 'as-is');
    else place(`${module}.${variable}`, tensor, layoutOf(layer!, match![2], classifier));
  }
  return mappedSource(source, mappings);
}
