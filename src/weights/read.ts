/**
 * Reading whole tensors out of any weight source, for the code paths that want their own copy
 * (the reference executor, the ONNX exporter, converters). The packing into WebAssembly memory
 * calls `readInto` with views instead, so it never holds a second copy.
 */
import { WeightsMismatchError } from '../errors.js';
import { elementCount, type WeightSource } from './source.js';

/** The float32 values of tensor `name` in a new array (its shape is `source.tensors.get(name).shape`). */
export function readFloat32(source: WeightSource, name: string): Float32Array {
  const tensor = source.tensors.get(name);
  if (tensor === undefined) throw new WeightsMismatchError(`tensor "${name}" is not in the weights file`);
  const values = new Float32Array(elementCount(tensor.shape)); // [elements of tensor.shape]
  source.readInto(name, values);
  return values;
}
