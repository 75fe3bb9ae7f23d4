/**
 * Which name scheme a weights file uses, detected from its tensor names, and the file seen under
 * timm's names (and PyTorch layouts), which is what everything past `weights/` reads:
 *
 *   timm                  conv_stem, bn1, blocks.{stage}.{i}.*, conv_head, bn2, classifier
 *   torchvision           features.0.0, features.{s}.{i}.block.{k}.*, classifier.1  (torchvision.ts)
 *   efficientnet-pytorch  _conv_stem, _bn0, _blocks.{n}.*, _conv_head, _bn1, _fc    (efficientnet-pytorch.ts)
 *   keras                 stem_conv, block1a_dwconv, ..., top_conv, predictions    (keras.ts, HDF5 files)
 *
 * A file matching none is passed on unchanged, so the tensor check reports its names.
 */
import type { WeightSource } from '../source.js';
import { efficientNetPytorchToTimm, isEfficientNetPytorchNaming } from './efficientnet-pytorch.js';
import { renamedSource } from './rename.js';
import { isTorchvisionNaming, torchvisionToTimm } from './torchvision.js';

export type NamingScheme = 'timm' | 'torchvision' | 'efficientnet-pytorch' | 'keras' | 'unknown';

export interface NamedWeights {
  /** The scheme the file was written with. */
  readonly naming: NamingScheme;
  /** The file under timm's names and PyTorch layouts. */
  readonly source: WeightSource;
  /** The file under its own names. */
  readonly original: WeightSource;
}

const isTimmNaming = (names: readonly string[]): boolean =>
  names.includes('conv_stem.weight') || names.some((name) => name.startsWith('blocks.'));

/** The scheme of names that are not Keras's (Keras names only come from HDF5 files). */
export function detectPytorchNaming(names: readonly string[]): NamingScheme {
  if (isTimmNaming(names)) return 'timm';
  if (isTorchvisionNaming(names)) return 'torchvision';
  if (isEfficientNetPytorchNaming(names)) return 'efficientnet-pytorch';
  return 'unknown';
}

export async function toTimmNaming(source: WeightSource): Promise<NamedWeights> {
  const names = [...source.tensors.keys()];
  if (source.format === 'hdf5') {
    // Loaded with the HDF5 reader it belongs to, never for other formats.
    const keras = await import('./keras.js');
    if (keras.isKerasNaming(names)) return { naming: 'keras', source: keras.kerasToTimm(source), original: source };
  }
  const naming = detectPytorchNaming(names);
  switch (naming) {
    case 'torchvision': return { naming, source: renamedSource(source, torchvisionToTimm(names)), original: source };
    case 'efficientnet-pytorch': return { naming, source: renamedSource(source, efficientNetPytorchToTimm(source.tensors)), original: source };
    default: return { naming, source, original: source };
  }
}
