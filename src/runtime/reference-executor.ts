/**
 * The teaching backend: the same program as the WASM core, executed step by step with the plain
 * TypeScript twins in `reference/`. Slow, allocation-heavy and readable on purpose; it is also
 * the oracle the core is tested against.
 */
import { bandRows, type DepthwiseStep, type Program, type Step } from '../plan/program.js';
import type { FoldedTensor } from '../weights/recipe.js';
import { readFloat32 } from '../weights/read.js';
import type { WeightSource } from '../weights/source.js';
import type { Engine, ProgramOutputs, RunOptions } from './outputs.js';
import { referenceBatchnormFold } from './reference/batchnorm.js';
import { referenceConv2d } from './reference/conv.js';
import { referenceDepthwise } from './reference/depthwise.js';
import { PANEL_WIDTH, referencePackPanels, referencePointwise, referenceScalePanelInputs, referenceUnpackPanels } from './reference/gemm.js';
import { nchwToNhwc, nhwcToNchw } from './reference/layout.js';
import { referenceSoftmax } from './reference/softmax.js';
import { referenceChannelSums, referenceGlobalAveragePool } from './reference/pool.js';
import { referenceSumBands } from './reference/reduce.js';
import { referenceChannelScale, referenceSqueezeExcite } from './reference/squeeze-excite.js';

interface NaturalTensor {
  readonly recipe: FoldedTensor;
  /** PyTorch layout, BN folded in: `[out, in/groups, kh, kw]` or `[out, in]`. */
  readonly weight: Float32Array;
  readonly bias: Float32Array; // [out]
}

/** Per-channel sums of each band of output rows of a depthwise output `[n, outH, outW, c]`: `[n, bands, c]`. */
function bandSums(output: Float32Array, step: DepthwiseStep): Float32Array {
  const { n, outHeight, outWidth, channels, bands } = step;
  const sums = new Float32Array(n * bands * channels); // [n, bands, c]
  for (let b = 0; b < n; b++) {
    for (let band = 0; band < bands; band++) {
      const [start, end] = bandRows(outHeight, bands, band);
      const rows = output.subarray(((b * outHeight + start) * outWidth) * channels, ((b * outHeight + end) * outWidth) * channels);
      sums.set(referenceChannelSums(rows, [1, (end - start) * outWidth, channels]), (b * bands + band) * channels);
    }
  }
  return sums;
}

export class ReferenceExecutor implements Engine {
  private tensors: Map<string, NaturalTensor> | null = new Map();

  constructor(file: WeightSource, recipe: readonly FoldedTensor[], bnEps: number) {
    for (const t of recipe) {
      const raw = readFloat32(file, `${t.layer}.weight`);
      if (t.bn !== null) {
        const folded = referenceBatchnormFold(raw, [t.outChannels, t.inChannels * t.kernel * t.kernel], {
          gamma: readFloat32(file, `${t.bn}.weight`),
          beta: readFloat32(file, `${t.bn}.bias`),
          mean: readFloat32(file, `${t.bn}.running_mean`),
          variance: readFloat32(file, `${t.bn}.running_var`),
        }, bnEps);
        this.tensors!.set(t.layer, { recipe: t, ...folded });
      } else {
        this.tensors!.set(t.layer, { recipe: t, weight: raw, bias: t.bias ? readFloat32(file, t.bias) : new Float32Array(t.outChannels) });
      }
    }
  }

  private tensor(layer: string): NaturalTensor {
    return this.tensors!.get(layer)!;
  }

  private execute(step: Step, buffers: Map<string, Float32Array>): void {
    const read = (i: number): Float32Array => buffers.get(step.reads[i])!;
    const write = (i: number, data: Float32Array): void => void buffers.set(step.writes[i], data);
    switch (step.kind) {
      case 'nchw-to-nhwc':
        return write(0, nchwToNhwc(read(0), [step.n, step.channels, step.height, step.width]));
      case 'nhwc-to-nchw':
        return write(0, nhwcToNchw(read(0), [step.n, step.height, step.width, step.channels]));
      case 'softmax':
        return write(0, referenceSoftmax(read(0), step.rows, step.cols));
      case 'conv2d': {
        const t = this.tensor(step.conv);
        return write(0, referenceConv2d(read(0), [step.n, step.height, step.width, step.inChannels], t.weight,
          [step.outChannels, step.inChannels, step.kernel, step.kernel], t.bias,
          { stride: step.stride, padTop: step.padTop, padLeft: step.padLeft, outH: step.outHeight, outW: step.outWidth }, step.activation,
          step.residual === null ? null : buffers.get(step.residual)!));
      }
      case 'depthwise': {
        const t = this.tensor(step.conv);
        const output = referenceDepthwise(read(0), [step.n, step.height, step.width, step.channels], t.weight, step.kernel, t.bias,
          { stride: step.stride, padTop: step.padTop, padLeft: step.padLeft, outH: step.outHeight, outW: step.outWidth }, step.activation);
        write(0, output);
        if (step.sums !== null) buffers.set(step.sums, bandSums(output, step));
        return;
      }
      case 'sum-bands':
        return write(0, referenceSumBands(read(0), [step.n, step.bands, step.channels]));
      case 'pointwise': {
        const t = this.tensor(step.conv);
        const residual = step.residual === null ? null : buffers.get(step.residual)!;
        if (step.gatedWeights === null) {
          return write(0, referencePointwise(read(0), step.rows, step.inChannels, t.weight, t.bias, step.outChannels, step.activation, residual));
        }
        // Image by image, each with its own gated weights.
        const { inChannels: K, outChannels: N } = step;
        const gated = buffers.get(step.gatedWeights)!; // [n, panels, K, 16]
        const perImage = Math.ceil(N / PANEL_WIDTH) * PANEL_WIDTH * K;
        const n = gated.length / perImage;
        const rows = step.rows / n;
        const output = new Float32Array(step.rows * N); // [rows, N]
        for (let b = 0; b < n; b++) {
          const weight = referenceUnpackPanels(gated.subarray(b * perImage, (b + 1) * perImage), N, K);
          output.set(referencePointwise(read(0).subarray(b * rows * K, (b + 1) * rows * K), rows, K, weight, t.bias, N, step.activation,
            residual === null ? null : residual.subarray(b * rows * N, (b + 1) * rows * N)), b * rows * N);
        }
        return write(0, output);
      }
      case 'gate-weights': {
        const t = this.tensor(step.conv);
        const { n, inChannels: K, outChannels: N } = step;
        const gate = read(0); // [n, K]
        const perImage = Math.ceil(N / PANEL_WIDTH) * PANEL_WIDTH * K;
        const gated = new Float32Array(n * perImage); // [n, panels, K, 16]
        for (let b = 0; b < n; b++) {
          gated.set(referenceScalePanelInputs(referencePackPanels(t.weight, N, K), N, K, gate.subarray(b * K, (b + 1) * K)), b * perImage);
        }
        return write(0, gated);
      }
      case 'se-gate': {
        const reduce = this.tensor(`${step.se}.conv_reduce`);
        const expand = this.tensor(`${step.se}.conv_expand`);
        return write(0, referenceSqueezeExcite(read(0), [step.n, step.channels], step.spatial, {
          reduceWeight: reduce.weight, reduceBias: reduce.bias, expandWeight: expand.weight, expandBias: expand.bias,
        }));
      }
      case 'channel-scale':
        return write(0, referenceChannelScale(read(0), [step.n, step.spatial, step.channels], read(1)));
      case 'global-average-pool':
        return write(0, referenceGlobalAveragePool(read(0), [step.n, step.spatial, step.channels]));
    }
  }

  /** Nothing to plan: the teaching path allocates each buffer as it goes. */
  prepare(_program: Program): void {}

  run(program: Program, input: Float32Array, options: RunOptions): ProgramOutputs {
    const buffers = new Map<string, Float32Array>([[program.input, input.slice()]]);
    program.steps.forEach((step, index) => {
      const start = performance.now();
      this.execute(step, buffers);
      const milliseconds = performance.now() - start;
      const written = step.writes[0];
      options.onStep?.({ step, milliseconds, shape: program.buffers.get(written)!.shape, output: () => buffers.get(written)!.slice() });
      for (const c of program.checkpoints) {
        if (c.afterStep === index && options.onCheckpoint) {
          options.onCheckpoint(c, buffers.get(c.buffer)!.slice(), program.buffers.get(c.buffer)!.shape);
        }
      }
    });
    return {
      // A network without a classifier has empty logits that no step writes.
      logits: buffers.get(program.logits) ?? new Float32Array(0),
      features: buffers.get(program.features)!,
      probabilities: program.probabilities === null ? null : buffers.get(program.probabilities)!,
      featureMaps: program.featureMaps.map((m) => buffers.get(m.buffer)!),
    };
  }

  dispose(): void {
    this.tensors = null;
  }
}
