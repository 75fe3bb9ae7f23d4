/**
 * A weight source seen under other names: the tensors and their values are the source's, read
 * through a name map. Renaming copies nothing.
 */
import type { SourceTensor, WeightSource } from '../source.js';
import { WeightsMismatchError } from '../../errors.js';

/**
 * `renames` maps source names to new names. Names it leaves out keep their own name (unless a
 * new name took it), so the tensor check lists them as unexpected instead of losing them.
 */
export function renamedSource(source: WeightSource, renames: ReadonlyMap<string, string>): WeightSource {
  const tensors = new Map<string, SourceTensor>();
  const original = new Map<string, string>();
  for (const [from, to] of renames) {
    const tensor = source.tensors.get(from);
    if (tensor === undefined) continue;
    tensors.set(to, { ...tensor, name: to });
    original.set(to, from);
  }
  for (const [name, tensor] of source.tensors) {
    if (!renames.has(name) && !tensors.has(name)) {
      tensors.set(name, tensor);
      original.set(name, name);
    }
  }
  return {
    format: source.format,
    tensors,
    normalization: source.normalization,
    metadata: source.metadata,
    readInto(name: string, destination: Float32Array): void {
      const from = original.get(name);
      if (from === undefined) throw new WeightsMismatchError(`tensor "${name}" is not in the weights file`);
      source.readInto(from, destination);
    },
  };
}
