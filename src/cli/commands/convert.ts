/**
 * `efficientnet convert IN --out model.safetensors [--dtype f32|f16|bf16]`: any weights file this
 * reads (PyTorch, Keras, safetensors; timm, torchvision, EfficientNet-PyTorch or Keras names) to a
 * safetensors file with timm's names and PyTorch layouts, the format timm itself publishes.
 *
 * The input is read by range, one tensor at a time straight into the output buffer. The output
 * is written to a temporary file beside the target and renamed over it at the end, so a failure
 * leaves nothing behind and never a half-written model.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expectedTensors } from '../../arch/layers.js';
import { buildNetwork } from '../../arch/network.js';
import { WeightsMismatchError } from '../../errors.js';
import { describeShape, inferShape } from '../../weights/infer-variant.js';
import { loadWeights } from '../../weights/load.js';
import { matchTensors } from '../../weights/match.js';
import { isFloatDtype, NORMALIZATION_MEAN_KEY, NORMALIZATION_STD_KEY } from '../../weights/safetensors.js';
import type { SourceNormalization } from '../../weights/source.js';
import { writeSafetensorsFrom, type WritableDtype } from '../../weights/safetensors-writer.js';
import { parseOptions, requireOption, UsageError } from '../args.js';
import { withFileSource } from '../file-source.js';

export const convertUsage = 'efficientnet convert IN --out model.safetensors [--dtype f32|f16|bf16]';

const DTYPES: Readonly<Record<string, WritableDtype>> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

/** Writes `bytes` to `path` through a temporary file in the same folder, renamed into place. */
function writeAtomically(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.partial`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * timm's `format: pt` marker, where the file came from, and the input normalisation a Keras file
 * carries (read back by the safetensors reader, so the converted file preprocesses the same way).
 */
function conversionMetadata(format: string, naming: string, normalization: SourceNormalization | undefined): Record<string, string> {
  const metadata: Record<string, string> = { format: 'pt', converted_from: `${format}/${naming}` };
  if (normalization) {
    metadata[NORMALIZATION_MEAN_KEY] = JSON.stringify(normalization.mean);
    metadata[NORMALIZATION_STD_KEY] = JSON.stringify(normalization.std);
  }
  return metadata;
}

export async function convertCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseOptions(argv, { out: { type: 'string' }, dtype: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new UsageError(`give exactly one input weights file, got ${positionals.length}`);
  const [input] = positionals;
  const outPath = requireOption(values.out, '--out');
  const dtype = DTYPES[(values.dtype ?? 'f32').toLowerCase()];
  if (dtype === undefined) throw new UsageError(`--dtype must be f32, f16 or bf16, got "${values.dtype}"`);

  const { bytes, summary } = await withFileSource(input, 'weights file', async (file) => {
    const { naming, source, original } = await loadWeights(file);
    if (naming === 'unknown') {
      const sample = [...original.tensors.keys()].slice(0, 5).join(', ');
      throw new WeightsMismatchError(
        `${input}: the tensor names (${sample || 'none'}) are not timm, torchvision, EfficientNet-PyTorch or Keras names, so they cannot be mapped`,
      );
    }
    const shape = inferShape(source);
    if (shape.variant !== null) {
      // A known variant: the file must be complete, checked with the usual all-at-once report.
      const network = buildNetwork(shape.variant, Math.max(shape.classes, 1));
      const expected = expectedTensors(network).filter((t) => shape.classes > 0 || !t.name.startsWith('classifier.'));
      matchTensors(source, expected, { describe: `EfficientNet-${shape.variant.toUpperCase()}` });
    }
    const specs = [...source.tensors.values()].filter((t) => isFloatDtype(t.dtype));
    const written = writeSafetensorsFrom(
      specs.map((t) => ({ name: t.name, shape: t.shape })),
      (name, target) => source.readInto(name, target),
      conversionMetadata(original.format, naming, source.normalization),
      { dtype },
    );
    return {
      bytes: written,
      summary: `${specs.length} tensors of ${describeShape(shape)}, ${shape.classes || 'no'} classes, from ${original.format} with ${naming} names`,
    };
  });
  writeAtomically(outPath, bytes);
  out(`wrote ${outPath} (${(bytes.length / 2 ** 20).toFixed(1)} MiB, ${dtype}, timm names): ${summary}`);
}
