/**
 * `efficientnet export-onnx`: writes the network with its weights as an ONNX model (BN folded,
 * symbolic batch and image size), for ONNX Runtime or any other ONNX consumer.
 */
import { variantTitle } from '../../arch/variants.js';
import { resolveCheckpoint } from '../../arch/checkpoint.js';
import { ConfigError } from '../../errors.js';
import { classifierWidth } from '../../weights/classifier.js';
import { loadWeights } from '../../weights/load.js';
import { writeOutputFile } from '../files.js';
import { withFileSource } from '../file-source.js';
import { integerOption, parseOptions, requireOption } from '../args.js';
import { MODEL_OPTIONS, modelChoice } from '../model-options.js';

export const exportOnnxUsage =
  'efficientnet export-onnx (--variant V | --model M) --weights FILE [--padding same|symmetric] [--bn-eps E] ' +
  '[--opset N] --out model.onnx';

/**
 * The exporter, loaded only when this command runs: it encodes with the ONNX schema of the
 * optional dependency onnx-proto (22 MB with protobufjs), which `npm install --omit=optional`
 * leaves out. Every other command works without it.
 */
async function loadExporter(): Promise<typeof import('../../onnx/export.js')> {
  try {
    await import('onnx-proto');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ConfigError('export-onnx needs the optional package onnx-proto, which is not installed; run `npm install onnx-proto`');
    }
    throw error;
  }
  return import('../../onnx/export.js');
}

export async function exportOnnxCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseOptions(argv, { ...MODEL_OPTIONS, opset: { type: 'string' }, out: { type: 'string' } });
  const choice = modelChoice(values);
  const weightsPath = requireOption(values.weights, '--weights');
  const outPath = requireOption(values.out, '--out');
  const { DEFAULT_OPSET, exportOnnx } = await loadExporter();
  const opset = integerOption(values.opset, '--opset', DEFAULT_OPSET);

  const { model, network, padding, bnEps } = await withFileSource(weightsPath, 'weights', async (file) => {
    const weights = (await loadWeights(file)).source;
    // The same rule as EfficientNet.create: a preset's padding and eps, an explicit --padding's own eps, else TF's.
    const checkpoint = resolveCheckpoint(choice, classifierWidth(weights));
    return { ...checkpoint, model: exportOnnx({ ...checkpoint, weights, opset }) };
  });
  writeOutputFile(outPath, model);
  out(
    `wrote ${outPath} (${(model.length / 2 ** 20).toFixed(1)} MiB): ${network.name === 'custom' ? 'EfficientNet (custom)' : variantTitle(network.name)}, ${padding} padding, ` +
      `BN eps ${bnEps} folded, opset ${opset}; input "input" [batch, 3, height, width], ` +
      `outputs "logits" [batch, ${network.numClasses}] and "features" [batch, ${network.headChannels}]`,
  );
}
