/**
 * From an unpickled PyTorch checkpoint to a WeightSource: finds the state_dict (unwrapping
 * `{"state_dict": ...}`-style wrappers and DataParallel's `module.` prefix), checks every tensor's
 * strided view against its storage's size before anything is allocated, and reads tensors as
 * float32, views and non-contiguous strides included.
 */
import { quoted } from './quote.js';
import { WeightsFormatError, WeightsMismatchError } from '../../errors.js';
import { decodeBfloat16Into, decodeFloat16Into } from '../float16.js';
import { elementCount, type ByteSource, type SourceTensor, type WeightDtype, type WeightFormat, type WeightSource } from '../source.js';
import { STORAGE_DTYPES, TensorRef, type PickleDict, type PickleValue, type StorageRef } from './pickle.js';

const ELEMENT_BYTES: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8 };

/** Keys under which training scripts commonly keep the state_dict, in the order they are tried. */
export const WRAPPER_KEYS: readonly string[] = ['state_dict', 'model_state_dict', 'model', 'module', 'net', 'network'];

/** Where each storage's bytes lie in the file. */
export type StorageLocator = (storage: StorageRef) => { begin: number; end: number };

interface TorchTensor extends SourceTensor {
  readonly ref: TensorRef;
  readonly begin: number;
  readonly end: number;
}

const isTensorDict = (value: PickleValue): value is PickleDict =>
  value instanceof Map && value.size > 0 && [...value.values()].some((item) => item instanceof TensorRef);

/** The dict of tensors inside a checkpoint: the checkpoint itself, or what a wrapper key holds. */
function findStateDict(root: PickleValue, where: string): PickleDict {
  if (root instanceof Map) {
    for (const key of WRAPPER_KEYS) {
      const inner = root.get(key);
      if (inner !== undefined && isTensorDict(inner)) return inner;
    }
    const dict: PickleDict = root;
    if (isTensorDict(dict)) return dict;
    const keys = [...root.keys()].slice(0, 10).map((key) => JSON.stringify(key)).join(', ');
    throw new WeightsFormatError(
      `${where} holds a dict without tensors (keys: ${keys || 'none'}); expected a state_dict, or a dict ` +
        `holding one under ${WRAPPER_KEYS.map((key) => `${quoted(key)}`).join(', ')}`,
    );
  }
  throw new WeightsFormatError(`${where} holds no dict of tensors; expected a state_dict saved with torch.save(model.state_dict(), path)`);
}

/** Strips a prefix every name carries (`module.` from DataParallel / DistributedDataParallel). */
function stripWrapperPrefix(names: readonly string[]): string {
  for (const prefix of ['module.', '_orig_mod.']) {
    if (names.length > 0 && names.every((name) => name.startsWith(prefix))) return prefix;
  }
  return '';
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    if (shape[axis] !== 1 && stride[axis] !== expected) return false;
    expected *= shape[axis];
  }
  return true;
}

/** Decodes `count` elements of `dtype` from `bytes` into `target`. */
function decode(dtype: WeightDtype, bytes: Uint8Array, target: Float32Array): void {
  switch (dtype) {
    case 'F32': new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes.subarray(0, target.byteLength)); break;
    case 'F16': decodeFloat16Into(bytes, 0, target); break;
    case 'BF16': decodeBfloat16Into(bytes, 0, target); break;
    default: throw new WeightsFormatError(`cannot read dtype ${dtype} as float`);
  }
}

/**
 * The WeightSource of a checkpoint: `root` is the unpickled object, `locate` finds a storage's
 * bytes. Every tensor is validated here, so `readInto` only reads.
 */
export function torchWeightSource(
  format: WeightFormat, root: PickleValue, locate: StorageLocator, bytes: ByteSource, where: string,
): WeightSource {
  const dict = findStateDict(root, where);
  const names = [...dict.keys()].filter((key): key is string => typeof key === 'string' && dict.get(key) instanceof TensorRef);
  const prefix = stripWrapperPrefix(names);
  const tensors = new Map<string, TorchTensor>();
  for (const key of names) {
    const ref = dict.get(key) as TensorRef;
    const name = key.slice(prefix.length);
    const dtype = STORAGE_DTYPES[ref.storage.storageClass];
    const elementBytes = ELEMENT_BYTES[dtype];
    const { begin, end } = locate(ref.storage);
    if (!Number.isSafeInteger(ref.storage.numel * elementBytes) || end - begin !== ref.storage.numel * elementBytes) {
      throw new WeightsFormatError(
        `${where}: tensor ${quoted(name)} uses a storage of ${ref.storage.numel} ${dtype} elements, but the file holds ${end - begin} bytes for it`,
      );
    }
    const empty = ref.shape.includes(0);
    // The last element the view touches must lie inside the storage (checked before any read).
    const last = empty ? 0 : ref.shape.reduce((sum, size, axis) => sum + (size - 1) * ref.stride[axis], ref.storageOffset);
    if (!empty && (!Number.isSafeInteger(last) || last >= ref.storage.numel)) {
      throw new WeightsFormatError(
        `${where}: tensor ${quoted(name)} of shape [${ref.shape.join(', ')}] with strides [${ref.stride.join(', ')}] at offset ` +
          `${ref.storageOffset} reaches element ${last} of a storage of ${ref.storage.numel}`,
      );
    }
    if (tensors.has(name)) throw new WeightsFormatError(`${where}: tensor ${quoted(name)} appears twice`);
    tensors.set(name, { name, dtype, shape: ref.shape, ref, begin, end });
  }

  const readInto = (name: string, target: Float32Array): void => {
    const tensor = tensors.get(name);
    if (tensor === undefined) throw new WeightsMismatchError(`tensor ${quoted(name)} is not in the weights file`);
    const { ref, dtype } = tensor;
    if (dtype === 'I64') {
      throw new WeightsFormatError(`tensor ${quoted(name)} has dtype I64, which is not a supported float dtype; expected one of F32, F16, BF16`);
    }
    const count = elementCount(ref.shape);
    if (target.length !== count) {
      throw new WeightsMismatchError(`tensor ${quoted(name)} has shape [${ref.shape.join(', ')}] (${count} elements), but the destination holds ${target.length} elements`);
    }
    if (count === 0 || ref.shape.includes(0)) return;
    const elementBytes = ELEMENT_BYTES[dtype];
    if (isContiguous(ref.shape, ref.stride)) {
      decode(dtype, bytes.read(tensor.begin + ref.storageOffset * elementBytes, count * elementBytes), target);
      return;
    }
    // A strided view: decode the span of storage it covers, then gather in row-major order.
    const span = ref.shape.reduce((sum, size, axis) => sum + (size - 1) * ref.stride[axis], 0) + 1;
    const covered = new Float32Array(span); // [span elements of storage from storageOffset]
    decode(dtype, bytes.read(tensor.begin + ref.storageOffset * elementBytes, span * elementBytes), covered);
    const index = new Array<number>(ref.shape.length).fill(0);
    for (let i = 0; i < count; i++) {
      let at = 0;
      for (let axis = 0; axis < index.length; axis++) at += index[axis] * ref.stride[axis];
      target[i] = covered[at];
      for (let axis = index.length - 1; axis >= 0; axis--) {
        if (++index[axis] < ref.shape[axis]) break;
        index[axis] = 0;
      }
    }
  };

  return { format, tensors, readInto };
}
