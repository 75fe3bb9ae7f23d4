/**
 * A weight source seen under other names: the tensors and their values are the source's, read
 * through a name map. Renaming copies nothing.
 */
import type { SourceTensor, WeightSource } from '../source.js';
import { WeightsMismatchError } from '../../errors.js';

/** `renames` maps each source name to its new name; names it leaves out are dropped. */
export function renamedSource(source: WeightSource, renames: ReadonlyMap<string, string>): WeightSource {
  const tensors = new Map<string, SourceTensor>();
  const original = new Map<string, string>();
  for (const [from, to] of renames) {
    const tensor = source.tensors.get(from);
    if (tensor === undefined) continue;
    tensors.set(to, { ...tensor, name: to });
    original.set(to, from);
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
