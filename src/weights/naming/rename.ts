/**
 * A weight source seen under other names (and, for Keras, other layouts): the tensors and their
 * values are the source's, read through a name map. Mapping copies nothing up front; a tensor
 * that changes layout is re-laid out as it is read.
 */
import type { SourceTensor, WeightSource } from '../source.js';
import { elementCount } from '../source.js';
import { WeightsMismatchError } from '../../errors.js';

/** Where a mapped tensor's values come from. */
export interface TensorMapping {
  /** The tensor's name in the source. */
  readonly from: string;
  /** Its shape once mapped, when the layout changes; the source's shape otherwise. */
  readonly shape?: readonly number[];
  /** Writes the stored values (in the source's layout) into `out` in the mapped layout. */
  readonly relayout?: (stored: Float32Array, out: Float32Array) => void;
}

/**
 * The source with exactly the tensors `mappings` names (new name -> where it comes from). The
 * caller decides what happens to names it does not map; `renamedSource` keeps them.
 */
export function mappedSource(source: WeightSource, mappings: ReadonlyMap<string, TensorMapping>): WeightSource {
  const tensors = new Map<string, SourceTensor>();
  for (const [to, mapping] of mappings) {
    const tensor = source.tensors.get(mapping.from);
    if (tensor === undefined) continue;
    tensors.set(to, { name: to, dtype: tensor.dtype, shape: mapping.shape ?? tensor.shape });
  }
  return {
    format: source.format,
    tensors,
    normalization: source.normalization,
    metadata: source.metadata,
    readInto(name: string, destination: Float32Array): void {
      const mapping = tensors.has(name) ? mappings.get(name) : undefined;
      if (mapping === undefined) throw new WeightsMismatchError(`tensor "${name}" is not in the weights file`);
      if (mapping.relayout === undefined) {
        source.readInto(mapping.from, destination);
        return;
      }
      const count = elementCount(source.tensors.get(mapping.from)!.shape);
      if (destination.length !== count) {
        throw new WeightsMismatchError(`tensor "${name}" has ${count} values but the destination holds ${destination.length}`);
      }
      const stored = new Float32Array(count); // [the source's layout of the tensor]: one tensor, re-laid out below
      source.readInto(mapping.from, stored);
      mapping.relayout(stored, destination);
    },
  };
}

/**
 * `renames` maps source names to new names. Names it leaves out keep their own name (unless a
 * new name took it), so the tensor check lists them as unexpected instead of losing them.
 */
export function renamedSource(source: WeightSource, renames: ReadonlyMap<string, string>): WeightSource {
  const mappings = new Map<string, TensorMapping>();
  for (const [from, to] of renames) if (source.tensors.has(from)) mappings.set(to, { from });
  for (const name of source.tensors.keys()) {
    if (!renames.has(name) && !mappings.has(name)) mappings.set(name, { from: name });
  }
  return mappedSource(source, mappings);
}
