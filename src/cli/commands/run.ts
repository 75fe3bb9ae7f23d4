/**
 * `efficientnet run`: one forward pass from a `.npy` input to `.npy` logits and features, with
 * an optional dump of every block's output for layer-by-layer comparison with PyTorch hooks.
 */
import { join } from 'node:path';
import type { Backend } from '../../efficientnet.js';
import { InputShapeError } from '../../errors.js';
import { parseNpy, encodeNpy } from '../npy.js';
import { readInputFile, writeOutputFile } from '../files.js';
import { formatTrace, traceRow, type TraceRow } from '../trace.js';
import { parseOptions, requireOption } from '../args.js';
import { engineChoice, engineFallbacks, ENGINE_OPTIONS } from '../engine-options.js';
import { MODEL_OPTIONS } from '../model-options.js';
import { loadModel, modelRequest } from '../load-model.js';

export const runUsage =
  'efficientnet run (--variant V | --model M) --weights FILE [--padding same|symmetric] [--bn-eps E] ' +
  '--input x.npy --logits out.npy [--features f.npy] [--dump DIR] [--trace] [--backend wasm|reference] ' +
  '[--threads T|auto] [--simd relaxed]';

/** NHWC `[n, h, w, c]` to PyTorch's NCHW, so dumps compare directly with forward hooks. */
function toNchw(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  if (shape.length !== 4) return { data, shape: [...shape] };
  const [n, h, w, c] = shape;
  const out = new Float32Array(data.length); // [n, c, h, w]
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const src = ((b * h + y) * w + x) * c;
    for (let ch = 0; ch < c; ch++) out[((b * c + ch) * h + y) * w + x] = data[src + ch];
  }
  return { data: out, shape: [n, c, h, w] };
}

export async function runCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseOptions(argv, {
    ...MODEL_OPTIONS,
    input: { type: 'string' },
    logits: { type: 'string' },
    features: { type: 'string' },
    dump: { type: 'string' },
    backend: { type: 'string' },
    ...ENGINE_OPTIONS,
    trace: { type: 'boolean', default: false },
  });
  // A port compares against real weights, so run has no --random-weights (init-weights writes synthetic ones).
  const request = modelRequest({ ...values, weights: requireOption(values.weights, '--weights') });
  const engine = engineChoice(values);
  const inputPath = requireOption(values.input, '--input');
  const logitsPath = requireOption(values.logits, '--logits');
  const input = parseNpy(readInputFile(inputPath, 'input'), inputPath);
  if (input.shape.length !== 4 || input.shape[1] !== 3) {
    throw new InputShapeError(`${inputPath}: expected shape [n, 3, height, width] (NCHW), got [${input.shape.join(', ')}]`);
  }
  const net = await loadModel(request, { backend: (values.backend ?? 'wasm') as Backend, ...engine });
  for (const line of engineFallbacks(net)) process.stderr.write(`note: ${line}\n`);
  const dumpDir = values.dump;
  const trace: TraceRow[] = [];
  const result = await net.forward(input.data, input.shape, {
    onStep: values.trace ? (event) => trace.push(traceRow(event)) : undefined,
    onCheckpoint: dumpDir === undefined ? undefined : (checkpoint, data, shape) => {
      const nchw = toNchw(data, shape);
      writeOutputFile(join(dumpDir, `${checkpoint.module}.npy`), encodeNpy(nchw.data, nchw.shape));
    },
  });
  if (values.trace) for (const line of formatTrace(trace)) out(line);
  const n = input.shape[0];
  writeOutputFile(logitsPath, encodeNpy(result.logits, [n, net.numClasses]));
  if (values.features !== undefined) writeOutputFile(values.features, encodeNpy(result.features, [n, net.featureChannels]));
  out(`wrote ${logitsPath} [${n}, ${net.numClasses}]${values.features ? ` and ${values.features} [${n}, ${net.featureChannels}]` : ''}` +
    (dumpDir ? `; block outputs in ${dumpDir}/` : ''));
  net.dispose();
}
