/**
 * The forward pass as a flat list of kernel calls with every size fixed. Built once per
 * (network, padding, input shape); both backends (the WASM core and the TypeScript reference)
 * execute the same list, so they differ only in how each kernel computes.
 *
 * Buffers are named; tensors are NHWC (`[n, h, w, c]`) except the NCHW input and the pooled
 * `[n, c]` vectors. BN layers do not appear: they are folded into the conv before them at load.
 */
import { blockModules } from '../arch/layers.js';
import type { NetworkSpec } from '../arch/network.js';
import type { ActivationName } from '../arch/topology.js';
import { ConfigError, InputShapeError } from '../errors.js';
import { axisGeometry, type PaddingMode } from './geometry.js';

/** The epilogue a kernel applies: a block's activation from the topology, or none (projections, the classifier). */
export type Activation = 'none' | ActivationName;

interface StepBase {
  /** timm module this call implements (the conv's name), for traces and errors. */
  readonly module: string;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
}

export interface SpatialConv {
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/** NCHW input -> NHWC. */
export interface LayoutStep extends StepBase {
  readonly kind: 'nchw-to-nhwc';
  readonly n: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** Dense kxk conv (the stem, conv-bn-act blocks, fused-MBConv expansions) with folded BN and its activation. */
export interface ConvStep extends StepBase, SpatialConv {
  readonly kind: 'conv2d';
  /** Conv and BN whose folded weights this call uses. */
  readonly conv: string;
  readonly bn: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly activation: Activation;
  /** Buffer added to the activated output (a conv-bn-act block's skip), or null. */
  readonly residual: string | null;
}

/**
 * Depthwise kxk conv with folded BN and its activation, computed in `bands` fixed bands of output rows
 * (see `bandCount`); optionally writes each band's per-channel sums for SE.
 */
export interface DepthwiseStep extends StepBase, SpatialConv {
  readonly kind: 'depthwise';
  readonly conv: string;
  readonly bn: string;
  readonly channels: number;
  readonly activation: Activation;
  /** Bands of output rows per image: `bandCount(outHeight)`. */
  readonly bands: number;
  /** Buffer `[n, bands, c]` receiving each band's per-channel sums of the output, or null. */
  readonly sums: string | null;
}

/** Adds per-band partial sums `[n, bands, c]` in band order into `[n, c]`. */
export interface SumBandsStep extends StepBase {
  readonly kind: 'sum-bands';
  readonly n: number;
  readonly bands: number;
  readonly channels: number;
}

/** 1x1 conv or linear layer as a GEMM over `rows` pixels, with optional residual added last. */
export interface PointwiseStep extends StepBase {
  readonly kind: 'pointwise';
  readonly conv: string;
  /** Folded BN, or null for the classifier (which has its own bias). */
  readonly bn: string | null;
  readonly rows: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly activation: Activation;
  readonly residual: string | null;
  /**
   * Buffer `[n, panels, inChannels, 16]` holding each image's copy of this layer's packed weights
   * scaled by its SE gate (written by a `gate-weights` step), used in place of the layer's own;
   * null to use the layer's own packed weights.
   */
  readonly gatedWeights: string | null;
}

/**
 * Squeeze-and-excitation applied on the weights: each image's copy of a layer's packed weights
 * with input channel k's weights times that image's gate[k], so the layer computes
 * W · (gate ⊙ x) without the map being scaled. Reads the gate `[n, inChannels]`.
 */
export interface GateWeightsStep extends StepBase {
  readonly kind: 'gate-weights';
  /** The layer whose packed weights are scaled (a block's projection). */
  readonly conv: string;
  readonly n: number;
  readonly inChannels: number;
  readonly outChannels: number;
}

/** Squeeze-and-excitation gate from channel sums: sigmoid(expand(swish(reduce(mean)))). */
export interface SqueezeExciteStep extends StepBase {
  readonly kind: 'se-gate';
  /** Module prefix, e.g. `blocks.1.0.se`. */
  readonly se: string;
  readonly n: number;
  readonly channels: number;
  readonly squeezed: number;
  /** Pixels per image the sums were taken over (the mean divides by it). */
  readonly spatial: number;
}

/** Multiplies each image's channels by its gate, in place. */
export interface ChannelScaleStep extends StepBase {
  readonly kind: 'channel-scale';
  readonly n: number;
  readonly spatial: number;
  readonly channels: number;
}

export interface PoolStep extends StepBase {
  readonly kind: 'global-average-pool';
  readonly n: number;
  readonly spatial: number;
  readonly channels: number;
}

/** NHWC -> NCHW copy of a feature map, for outputs handed to users in PyTorch layout. */
export interface ToNchwStep extends StepBase {
  readonly kind: 'nhwc-to-nchw';
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export interface SoftmaxStep extends StepBase {
  readonly kind: 'softmax';
  readonly rows: number;
  readonly cols: number;
}

export type Step =
  | LayoutStep | ToNchwStep | SoftmaxStep | ConvStep | DepthwiseStep | SumBandsStep | PointwiseStep | SqueezeExciteStep
  | ChannelScaleStep | GateWeightsStep | PoolStep;

export interface BufferShape {
  readonly id: string;
  /**
   * Element counts; `[n, h, w, c]` for feature maps, `[n, c]` for vectors, `[n, bands, c]` for
   * per-band vectors, `[n, 3, h, w]` for the input, `[n, panels, k, 16]` for per-image GEMM
   * weights in the core's packed layout (output channel 16p + j of input channel k at [p, k, j],
   * zero past the layer's outputs).
   */
  readonly shape: readonly number[];
  readonly layout: 'nhwc' | 'nc' | 'nbc' | 'nchw' | 'panels';
}

/** A point in the forward pass whose output a user may want to see (dumps, traces, feature maps). */
export interface Checkpoint {
  /** timm module name: `bn1` (stem), `blocks.i.j`, `bn2` (head), `global_pool`, `classifier`. */
  readonly module: string;
  /** Index of the step after which the buffer holds the module's output. */
  readonly afterStep: number;
  readonly buffer: string;
  /** Downsampling factor relative to the input, for feature maps. */
  readonly stride: number;
}

/** A multi-scale feature map output, like timm's `features_only`: the last block at each stride. */
export interface FeatureMapOutput {
  /** timm module name of the block, e.g. `blocks.2.1`. */
  readonly module: string;
  readonly stride: number;
  /** Buffer holding the map in NCHW `[n, c, h, w]`. */
  readonly buffer: string;
}

export interface ProgramOptions {
  /** Also produce softmax probabilities `[n, classes]`. */
  readonly probabilities?: boolean;
  /** Also produce NCHW copies of the feature maps at strides 2, 4, 8, 16 and 32. */
  readonly featureMaps?: boolean;
}

export interface Program {
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly padding: PaddingMode;
  readonly steps: readonly Step[];
  readonly buffers: ReadonlyMap<string, BufferShape>;
  readonly checkpoints: readonly Checkpoint[];
  /** Buffer ids of the host-visible tensors. */
  readonly input: string;
  readonly features: string;
  readonly logits: string;
  /** `[n, classes]` softmax of the logits, when requested. */
  readonly probabilities: string | null;
  readonly featureMaps: readonly FeatureMapOutput[];
}

/**
 * Most bands a depthwise conv is cut into. Bands are the units threads share, so there should be
 * several per thread for balance; 16 gives every thread count up to 4 at least 4 bands on large
 * maps, while each band of a 56-row map still has 3 or 4 rows of work.
 */
export const MAX_BANDS = 16;

/**
 * How many bands of output rows a depthwise conv with `outHeight` rows is computed in: one row
 * each on small maps, at most MAX_BANDS. It depends on the shape alone, never on the thread count:
 * the SE channel sums are added band by band, so their bits depend on the band count, and fixing
 * it here is what makes results identical on any number of threads.
 */
export const bandCount = (outHeight: number): number => Math.min(outHeight, MAX_BANDS);

/** Output channels per packed GEMM weight panel (the core's `gemm_pack` layout). */
export const GEMM_PANEL_WIDTH = 16;

/**
 * Whether a block applies its SE gate to its projection's weights rather than to its map: per
 * image that is inChannels x (outChannels rounded up to whole panels) multiplies instead of
 * inChannels x pixels, so it pays when the map has more pixels than the projection has padded
 * outputs (B0 at 224: every stage down to 14x14; the 7x7 stages, with 192 and 320 outputs, still
 * scale the map).
 */
export const gatesProjectionWeights = (pixels: number, outChannels: number): boolean =>
  Math.ceil(outChannels / GEMM_PANEL_WIDTH) * GEMM_PANEL_WIDTH < pixels;

/** Rows `[start, end)` of band `band` when `rows` rows are cut into `bands` near-equal bands. */
export function bandRows(rows: number, bands: number, band: number): readonly [number, number] {
  return [Math.floor((band * rows) / bands), Math.floor(((band + 1) * rows) / bands)];
}

/** Largest side accepted; far above any checkpoint's resolution, small enough to keep sizes in safe integers. */
export const MAX_INPUT_SIDE = 8192;

export function validateInputShape(shape: readonly number[]): void {
  if (shape.length !== 4) {
    throw new InputShapeError(`input shape must be [n, 3, height, width], got [${shape.join(', ')}]`);
  }
  const [n, c, h, w] = shape;
  for (const [name, value] of [['batch', n], ['height', h], ['width', w]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new InputShapeError(`input ${name} must be a positive integer, got ${value} in shape [${shape.join(', ')}]`);
    }
  }
  if (c !== 3) throw new InputShapeError(`input must have 3 channels (RGB, NCHW), got ${c} in shape [${shape.join(', ')}]`);
  if (h > MAX_INPUT_SIDE || w > MAX_INPUT_SIDE) {
    throw new InputShapeError(`input sides must be at most ${MAX_INPUT_SIDE} pixels, got ${h}x${w}`);
  }
}

/** Builds the call list for `n` images of `height` x `width`. */
export function buildProgram(
  network: NetworkSpec, padding: PaddingMode, shape: readonly [number, number, number, number], options: ProgramOptions = {},
): Program {
  validateInputShape(shape);
  const [n, , height, width] = shape;
  const steps: Step[] = [];
  const buffers = new Map<string, BufferShape>();
  const checkpoints: Checkpoint[] = [];
  const define = (id: string, dims: number[], layout: BufferShape['layout']): string => {
    buffers.set(id, { id, shape: dims, layout });
    return id;
  };
  const checkpoint = (module: string, buffer: string, stride: number): void => {
    checkpoints.push({ module, afterStep: steps.length - 1, buffer, stride });
  };

  const input = define('input', [n, 3, height, width], 'nchw');
  const image = define('input.nhwc', [n, height, width, 3], 'nhwc');
  steps.push({ kind: 'nchw-to-nhwc', module: 'input', reads: [input], writes: [image], n, channels: 3, height, width });

  // Geometry of a strided kxk conv over the current map, in the network's padding family.
  const spatial = (h: number, w: number, kernel: number, stride: number): SpatialConv => {
    const rows = axisGeometry(h, kernel, stride, padding);
    const cols = axisGeometry(w, kernel, stride, padding);
    return { n, height: h, width: w, kernel, stride, padTop: rows.before, padLeft: cols.before, outHeight: rows.output, outWidth: cols.output };
  };

  let h = height;
  let w = width;
  let downsampling = 1;
  const stem = spatial(h, w, network.stem.kernel, network.stem.stride);
  h = stem.outHeight;
  w = stem.outWidth;
  downsampling *= network.stem.stride;
  let current = define('stem', [n, h, w, network.stemChannels], 'nhwc');
  steps.push({
    kind: 'conv2d', module: 'conv_stem', reads: [image], writes: [current], ...stem,
    conv: 'conv_stem', bn: 'bn1', inChannels: 3, outChannels: network.stemChannels, activation: network.stem.activation, residual: null,
  });
  checkpoint('bn1', current, downsampling);

  // Each block: [1x1 expand] -> kxk spatial conv (depthwise or full) -> [SE] -> [1x1 project],
  // the residual riding on the last conv. Which parts a block has is its kind's (blockModules).
  for (const block of network.blocks) {
    const p = block.name;
    const modules = blockModules(block);
    const blockInput = current;
    const residual = block.residual ? blockInput : null;
    let x = current;
    if (modules.expand !== null) {
      x = define(`${p}.expanded`, [n, h, w, block.expandedChannels], 'nhwc');
      steps.push({
        kind: 'pointwise', module: modules.expand.conv, reads: [current], writes: [x],
        conv: modules.expand.conv, bn: modules.expand.bn, rows: n * h * w, inChannels: block.inChannels,
        outChannels: block.expandedChannels, activation: block.activation, residual: null, gatedWeights: null,
      });
    }
    const geometry = spatial(h, w, block.kernel, block.stride);
    const spatialInput = x;
    h = geometry.outHeight;
    w = geometry.outWidth;
    downsampling *= block.stride;
    const c = block.expandedChannels;
    const withSe = block.seChannels > 0;
    const lastConv = modules.project === null;
    let gatedWeights: string | null = null;
    if (modules.spatial.depthwise) {
      const bands = bandCount(h);
      x = define(`${p}.depthwise`, [n, h, w, c], 'nhwc');
      const bandSums = withSe ? define(`${p}.se.band-sums`, [n, bands, c], 'nbc') : null;
      steps.push({
        kind: 'depthwise', module: modules.spatial.conv, reads: [spatialInput], writes: bandSums === null ? [x] : [x, bandSums], ...geometry,
        conv: modules.spatial.conv, bn: modules.spatial.bn, channels: c, activation: block.activation, bands, sums: bandSums,
      });
      if (bandSums !== null) {
        // The SE kernel's bottleneck activation is swish, as in every published block with SE.
        if (block.activation !== 'swish') throw new ConfigError(`${p}: squeeze-and-excitation is implemented for swish blocks only, not ${block.activation}`);
        const sums = define(`${p}.se.sums`, [n, c], 'nc');
        const gate = define(`${p}.se.gate`, [n, c], 'nc');
        steps.push({ kind: 'sum-bands', module: `${p}.se`, reads: [bandSums], writes: [sums], n, bands, channels: c });
        steps.push({
          kind: 'se-gate', module: `${p}.se`, reads: [sums], writes: [gate], se: `${p}.se`,
          n, channels: c, squeezed: block.seChannels, spatial: h * w,
        });
        if (modules.project !== null && gatesProjectionWeights(h * w, block.outChannels)) {
          const panels = Math.ceil(block.outChannels / GEMM_PANEL_WIDTH);
          gatedWeights = define(`${p}.se.gated-weights`, [n, panels, c, GEMM_PANEL_WIDTH], 'panels');
          steps.push({
            kind: 'gate-weights', module: `${p}.se`, reads: [gate], writes: [gatedWeights], conv: modules.project.conv,
            n, inChannels: c, outChannels: block.outChannels,
          });
        } else {
          steps.push({ kind: 'channel-scale', module: `${p}.se`, reads: [x, gate], writes: [x], n, spatial: h * w, channels: c });
        }
      }
    } else {
      // SE's channel sums ride along the depthwise kernel only; no published full-conv block has SE.
      if (withSe) throw new ConfigError(`${p}: squeeze-and-excitation after a full ${block.kernel}x${block.kernel} conv is not supported`);
      x = define(lastConv ? `${p}.output` : `${p}.conv`, [n, h, w, c], 'nhwc');
      const skip = lastConv ? residual : null;
      steps.push({
        kind: 'conv2d', module: modules.spatial.conv, reads: skip === null ? [spatialInput] : [spatialInput, skip], writes: [x], ...geometry,
        conv: modules.spatial.conv, bn: modules.spatial.bn, inChannels: block.inChannels, outChannels: c, activation: block.activation,
        residual: skip,
      });
    }
    if (modules.project !== null) {
      const output = define(`${p}.output`, [n, h, w, block.outChannels], 'nhwc');
      const reads = [x, ...(gatedWeights === null ? [] : [gatedWeights]), ...(residual === null ? [] : [residual])];
      steps.push({
        kind: 'pointwise', module: modules.project.conv, reads, writes: [output],
        conv: modules.project.conv, bn: modules.project.bn, rows: n * h * w, inChannels: c, outChannels: block.outChannels,
        activation: 'none', residual, gatedWeights,
      });
      x = output;
    }
    checkpoint(p, x, downsampling);
    current = x;
  }

  const head = define('head', [n, h, w, network.headChannels], 'nhwc');
  steps.push({
    kind: 'pointwise', module: 'conv_head', reads: [current], writes: [head], conv: 'conv_head', bn: 'bn2',
    rows: n * h * w, inChannels: network.blocks[network.blocks.length - 1].outChannels, outChannels: network.headChannels,
    activation: network.head.activation, residual: null, gatedWeights: null,
  });
  checkpoint('bn2', head, downsampling);
  const features = define('features', [n, network.headChannels], 'nc');
  steps.push({ kind: 'global-average-pool', module: 'global_pool', reads: [head], writes: [features], n, spatial: h * w, channels: network.headChannels });
  checkpoint('global_pool', features, downsampling);
  // Without a classifier (numClasses 0) the logits are empty, `[n, 0]`, and nothing writes them.
  const logits = define('logits', [n, network.numClasses], 'nc');
  if (network.numClasses > 0) {
    steps.push({
      kind: 'pointwise', module: 'classifier', reads: [features], writes: [logits], conv: 'classifier', bn: null,
      rows: n, inChannels: network.headChannels, outChannels: network.numClasses, activation: 'none', residual: null,
      gatedWeights: null,
    });
    checkpoint('classifier', logits, downsampling);
  }

  let probabilities: string | null = null;
  if (options.probabilities && network.numClasses > 0) {
    probabilities = define('probabilities', [n, network.numClasses], 'nc');
    steps.push({ kind: 'softmax', module: 'softmax', reads: [logits], writes: [probabilities], rows: n, cols: network.numClasses });
  }

  // The maps are copied out at the end rather than when produced: their blocks' outputs would be
  // overwritten by then, so each copy reads a buffer kept alive by this late read.
  const featureMaps: FeatureMapOutput[] = [];
  if (options.featureMaps) {
    const lastAtStride = new Map<number, Checkpoint>();
    for (const c of checkpoints) if (c.module.startsWith('blocks.')) lastAtStride.set(c.stride, c);
    for (const [stride, c] of lastAtStride) {
      const [, mh, mw, mc] = buffers.get(c.buffer)!.shape;
      const buffer = define(`featuremap.${c.module}`, [n, mc, mh, mw], 'nchw');
      steps.push({ kind: 'nhwc-to-nchw', module: c.module, reads: [c.buffer], writes: [buffer], n, height: mh, width: mw, channels: mc });
      featureMaps.push({ module: c.module, stride, buffer });
    }
  }

  return { n, height, width, padding, steps, buffers, checkpoints, input, features, logits, probabilities, featureMaps };
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
