/**
 * PyTorch's legacy checkpoints (before 1.6, or `_use_new_zipfile_serialization=False`): one stream
 * of five pickles, then the storages' bytes:
 *
 *   pickle  the magic number 0x1950a86a20f9469cfc6c
 *   pickle  the protocol version, 1001
 *   pickle  sys_info: {'protocol_version', 'little_endian', 'type_sizes'}
 *   pickle  the state_dict, storages as persistent ids ('storage', Class, key, location, numel, view)
 *   pickle  the list of storage keys, in the order their bytes follow
 *   per key: numel as int64 little-endian, then numel * element size bytes
 */
import { quoted } from './quote.js';
import { WeightsFormatError } from '../../errors.js';
import type { ByteSource, WeightSource } from '../source.js';
import { NeedMoreBytes, PickleTuple, storageFromPersistentId, unpickle, type PickleValue, STORAGE_DTYPES } from './pickle.js';
import { torchWeightSource } from './state-dict.js';

/** PROTO 2, LONG1 of 10 bytes, then the magic number little-endian: how every legacy file begins. */
export const TORCH_LEGACY_MAGIC: readonly number[] = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;
const ELEMENT_BYTES: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8 };
/** The pickles are read from a prefix that doubles until they fit; this is where it starts. */
const FIRST_PREFIX = 1 << 20;
/** No state_dict index needs more than this; past it the file is refused. */
const MAX_PICKLES_BYTES = 256 * 1024 * 1024;

const WHERE = 'legacy stream';

function fail(message: string): never {
  throw new WeightsFormatError(`PyTorch legacy checkpoint: ${message}`);
}

interface Pickles { readonly values: PickleValue[]; readonly end: number }

/** Runs the five pickles over growing prefixes of the file until they fit. */
function readPickles(bytes: ByteSource): Pickles {
  for (let prefix = Math.min(FIRST_PREFIX, bytes.length); ; prefix = Math.min(prefix * 2, bytes.length)) {
    const head = bytes.read(0, prefix);
    const more = prefix < bytes.length && prefix < MAX_PICKLES_BYTES;
    try {
      const values: PickleValue[] = [];
      let offset = 0;
      for (let i = 0; i < 5; i++) {
        const { value, end } = unpickle(head.subarray(offset), {
          where: WHERE,
          more,
          // Only the state_dict pickle may refer to storages.
          persistentLoad: (id) => {
            if (i !== 3) fail('a persistent id outside the state_dict');
            return legacyStorage(id);
          },
        });
        values.push(value);
        offset += end;
      }
      return { values, end: offset };
    } catch (error) {
      if (error instanceof NeedMoreBytes && more) continue;
      if (error instanceof NeedMoreBytes) fail(`the pickles pass ${MAX_PICKLES_BYTES} bytes, more than a state_dict index needs`);
      throw error;
    }
  }
}

function legacyStorage(id: PickleValue): PickleValue {
  const storage = storageFromPersistentId(id, WHERE);
  const view = id instanceof PickleTuple ? id.items[5] : null;
  if (view !== null && view !== undefined) fail(`storage ${quoted(storage.key)} is a view of another storage (pre-1.0 format), which is not read`);
  return storage;
}

export function openTorchLegacy(bytes: ByteSource): WeightSource {
  const { values, end } = readPickles(bytes);
  const [magic, protocol, sysInfo, root, keys] = values;
  if (magic !== Number(MAGIC_NUMBER) && magic !== MAGIC_NUMBER) fail('the magic number is wrong');
  if (protocol !== PROTOCOL_VERSION) fail(`protocol version ${String(protocol)}, expected ${PROTOCOL_VERSION}`);
  if (!(sysInfo instanceof Map) || sysInfo.get('little_endian') !== true) fail('only little-endian files are read');
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) fail('the storage key list is not a list of strings');

  // Storages follow in key order, each behind its element count. Their element size comes from
  // the state_dict's references; walking them costs one 8-byte read each.
  const sizes = new Map<string, number>();
  collectStorageSizes(root, sizes);
  const ranges = new Map<string, { begin: number; end: number }>();
  let cursor = end;
  for (const key of keys as string[]) {
    if (cursor + 8 > bytes.length) fail(`the file ends before storage ${quoted(key)}`);
    const header = bytes.read(cursor, 8);
    const numel = new DataView(header.buffer, header.byteOffset, 8).getBigInt64(0, true);
    const elementBytes = sizes.get(key);
    if (elementBytes === undefined) fail(`storage ${quoted(key)} is listed but no tensor uses it`);
    const length = numel * BigInt(elementBytes);
    if (numel < 0n || cursor + 8 + Number(length) > bytes.length) {
      fail(`storage ${quoted(key)} declares ${numel} elements, more than the ${bytes.length - cursor - 8} bytes left in the file`);
    }
    ranges.set(key, { begin: cursor + 8, end: cursor + 8 + Number(length) });
    cursor += 8 + Number(length);
  }
  return torchWeightSource('pytorch-legacy', root, (storage) => {
    const range = ranges.get(storage.key);
    if (range === undefined) fail(`storage ${quoted(storage.key)} is used but not listed`);
    return range;
  }, bytes, 'PyTorch legacy checkpoint');
}

/** Element size per storage key, from the tensors that reference them (iterative: no deep recursion). */
function collectStorageSizes(root: PickleValue, sizes: Map<string, number>): void {
  const pending: PickleValue[] = [root];
  const seen = new Set<object>();
  while (pending.length > 0) {
    const value = pending.pop()!;
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if ('storage' in value && 'stride' in value) {
      const { storage } = value;
      sizes.set(storage.key, ELEMENT_BYTES[STORAGE_DTYPES[storage.storageClass]]);
    } else if (value instanceof Map) pending.push(...value.values());
    else if (Array.isArray(value)) pending.push(...value);
    else if (value instanceof PickleTuple) pending.push(...value.items);
  }
}
