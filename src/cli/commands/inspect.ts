/**
 * `efficientnet inspect FILE [--json]`: what a weights file is, without building a network: its
 * format (from the magic bytes), its name scheme, the variant its shapes match, its classes, and
 * its tensors by dtype. The file is read by range: only the index, never every tensor.
 */
import { describeShape, inferShape } from '../../weights/infer-variant.js';
import { loadWeights } from '../../weights/load.js';
import type { WeightFormat } from '../../weights/source.js';
import { UsageError, parseOptions } from '../args.js';
import { withFileSource } from '../file-source.js';

export const inspectUsage = 'efficientnet inspect FILE [--json]';

const FORMAT_NAMES: Readonly<Record<WeightFormat, string>> = {
  safetensors: 'safetensors',
  'pytorch-zip': 'PyTorch zip (torch.save)',
  'pytorch-legacy': 'PyTorch legacy pickle (torch.save before 1.6)',
  hdf5: 'Keras HDF5',
};

/** The options that run a file of this scheme as it was trained, when the variant is known. */
function runHint(naming: string, variant: string | null): string | null {
  if (variant === null) return null;
  switch (naming) {
    case 'torchvision': return `--model torchvision/efficientnet_${variant}`;
    case 'keras': return `--model keras/EfficientNet${variant.toUpperCase()}`;
    // EfficientNet-PyTorch ported TensorFlow's weights: SAME padding and TensorFlow's BN eps.
    case 'efficientnet-pytorch': return `--variant ${variant} --padding same --bn-eps 1e-3`;
    default: return null;
  }
}

export async function inspectCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseOptions(argv, { json: { type: 'boolean', default: false } }, true);
  if (positionals.length !== 1) throw new UsageError(`give exactly one weights file, got ${positionals.length}`);
  const [path] = positionals;
  const report = await withFileSource(path, 'weights file', async (bytes) => {
    const { naming, source, original } = await loadWeights(bytes);
    const shape = inferShape(source);
    const dtypes: Record<string, number> = {};
    for (const tensor of original.tensors.values()) dtypes[tensor.dtype] = (dtypes[tensor.dtype] ?? 0) + 1;
    return {
      file: path,
      format: original.format,
      naming,
      variant: shape.variant,
      classes: shape.classes,
      tensors: original.tensors.size,
      // Tensors a name scheme could not place keep their own names.
      unplacedTensors: naming === 'timm' || naming === 'unknown' ? 0 : [...source.tensors.keys()].filter((name) => original.tensors.has(name)).length,
      dtypes,
      stemChannels: shape.stemChannels,
      headChannels: shape.headChannels,
      blocksPerStage: shape.blocksPerStage,
      normalization: source.normalization ?? null,
      description: describeShape(shape),
    };
  });
  if (values.json) {
    const { description: _description, ...fields } = report;
    out(JSON.stringify(fields));
    return;
  }
  const dtypeList = Object.entries(report.dtypes).map(([dtype, count]) => `${dtype} ${count}`).join(', ');
  out(`${report.file}: ${FORMAT_NAMES[report.format]}, ${report.naming} names`);
  out(`network: ${report.description}`);
  out(`classes: ${report.classes === 0 ? 'none (no classifier: a feature extractor)' : report.classes}`);
  out(`tensors: ${report.tensors} (${dtypeList})${report.unplacedTensors > 0 ? `, ${report.unplacedTensors} not placed under timm names` : ''}`);
  const hint = runHint(report.naming, report.variant);
  if (hint !== null) out(`run with: ${hint}`);
  if (report.normalization) {
    out(`normalisation in the file: mean ${report.normalization.mean.join(', ')}, std ${report.normalization.std.join(', ')}`);
  }
}
