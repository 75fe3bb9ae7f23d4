/**
 * Bounds on the work jsfive 0.4.2 (the exact version package.json pins) does on a hostile file.
 * jsfive trusts the sizes and addresses a file declares; three of its loops can then run for
 * minutes or hours on a file of a few kilobytes:
 *
 * 1. Attributes: it loops over the element count an attribute's dataspace declares, and its
 *    string reads past the end of the buffer return "" instead of failing, so a count of 2^32
 *    loops for minutes (found by the fuzzer). Checked: the elements must fit in the bytes after
 *    the attribute (each takes at least one byte; variable-length and reference ones at least 8).
 * 2. Group B-trees (version 1, what h5py and Keras write): it reads every child address of every
 *    node, level by level, and a file that lists one child many times, at several levels, makes
 *    it read that node a product-of-fan-outs number of times. Checked: a walk over the same
 *    addresses, counting reads with multiplicity, must stay within the number of nodes the file
 *    could hold (its size / 24, a node header's size).
 * 3. Chunked datasets, whose chunk B-trees have the same fan-out problem and whose chunks are
 *    inflated: Keras never writes them, so the Keras reader refuses them (checked where the
 *    reader looks at each dataset, not here).
 *
 * jsfive does not export the class that does this work, so its prototype is reached through the
 * file object of a tiny valid HDF5 file (an empty file as h5py writes it), and two of its methods
 * are wrapped. The checks apply only while the Keras reader is calling jsfive (`withGuards`), so
 * any other user of jsfive in the process sees it unchanged.
 */
/** jsfive's `File` class, typed only as far as this needs (no import: the package is optional). */
type JsfiveFile = new (buffer: ArrayBuffer, filename?: string) => object;

/** jsfive's DataObjects: one HDF5 object header and the messages parsed from it. */
interface DataObjects {
  readonly fh: ArrayBuffer;
  readonly msgs: ReadonlyArray<Map<string, unknown>>;
  _attr_value(dtype: unknown, buffer: ArrayBuffer, count: number, offset: number): unknown;
  get_links(): Record<string, unknown>;
}

/** HDF5 object header message type of a symbol table (an old-style group's B-tree and heap). */
const SYMBOL_TABLE_MESSAGE = 0x0011;
/** A version 1 B-tree node header: signature, type, level, entries used, two sibling addresses. */
const BTREE_NODE_HEADER_BYTES = 24;
/** A group node's key (an offset into the local heap) and child address, each 8 bytes. */
const GROUP_ENTRY_BYTES = 16;

/** An empty HDF5 file as h5py 3.7 writes it: 800 bytes, zero outside these two runs. */
const PROBE_FILE_BYTES = 800;
const PROBE_FILE_RUNS: ReadonlyArray<readonly [number, string]> = [
  [0, 'iUhERg0KGgoAAAAAAAgIAAQAEAAAAAAAAAAAAAAAAAD//////////yADAAAAAAAA//////////8AAAAAAAAAAGAAAAAAAAAAAQAAAAAAAACIAAAAAAAAAKgCAAAAAAAAAQABAAEAAAAYAAAAAAAAABEAEAAAAAAAiAAAAAAAAACoAgAAAAAAAFRSRUUAAAAA/////////////////////w=='],
  [680, 'SEVBUAAAAABYAAAAAAAAAAgAAAAAAAAAyAIAAAAAAAAAAAAAAAAAAAEAAAAAAAAAUA=='],
];

function probeFile(): ArrayBuffer {
  const bytes = new Uint8Array(PROBE_FILE_BYTES); // [file bytes]
  for (const [offset, base64] of PROBE_FILE_RUNS) {
    const run = atob(base64);
    for (let i = 0; i < run.length; i++) bytes[offset + i] = run.charCodeAt(i);
  }
  return bytes.buffer;
}

/** Thrown inside jsfive's call; the reader turns it into a WeightsFormatError like any jsfive failure. */
class HostileSizeError extends Error {}

let active = 0;
const installed = new WeakSet<object>();

/** Elements of an attribute must fit in the bytes after it. */
function checkAttribute(dtype: unknown, buffer: ArrayBuffer, count: number, offset: number): void {
  const itemBytes = typeof dtype === 'string' ? Math.max(1, Number(/(\d+)$/.exec(dtype)?.[1] ?? 1)) : 8;
  if (!Number.isSafeInteger(count) || count < 0 || count * itemBytes > buffer.byteLength - offset) {
    throw new HostileSizeError(`an attribute declares ${count} elements, more than the file holds`);
  }
}

/** Reads a little-endian u64 address as a number, or undefined past the end (jsfive then fails on its own). */
function address(view: DataView, at: number): number | undefined {
  if (at < 0 || at + 8 > view.byteLength) return undefined;
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
}

/**
 * Counts, with multiplicity, the nodes jsfive reads for the group B-tree at `root` (every level,
 * then the symbol table nodes the leaves point to), charging each read to `charge`. Each
 * distinct address is looked at once; its multiplicity is how many times jsfive would read it.
 */
function walkGroupTree(view: DataView, root: number, charge: (reads: number) => void): void {
  if (root + BTREE_NODE_HEADER_BYTES > view.byteLength) return;
  let level = new Map<number, number>([[root, 1]]); // node address -> times jsfive reads it
  charge(1);
  for (let depth = view.getUint8(root + 5); depth >= 0; depth--) {
    const next = new Map<number, number>();
    for (const [node, times] of level) {
      if (node + BTREE_NODE_HEADER_BYTES > view.byteLength) return;
      const entries = view.getUint16(node + 6, true);
      for (let i = 0; i < entries; i++) {
        const child = address(view, node + BTREE_NODE_HEADER_BYTES + i * GROUP_ENTRY_BYTES + 8);
        if (child === undefined) return;
        next.set(child, (next.get(child) ?? 0) + times);
        charge(times);
      }
    }
    // Below the leaves (depth 0) are the symbol table nodes, read once per listing but not walked further.
    if (depth === 0) return;
    level = next;
  }
}

/** Throws if listing a group would read more B-tree nodes than the file could hold, over all its symbol tables. */
function checkGroupTrees(objects: DataObjects): void {
  const view = new DataView(objects.fh);
  const budget = Math.ceil(view.byteLength / BTREE_NODE_HEADER_BYTES) + 1;
  let reads = 0;
  const charge = (count: number): void => {
    reads += count;
    if (reads > budget) throw new HostileSizeError(`a group's B-tree refers to more nodes than a ${view.byteLength}-byte file can hold`);
  };
  for (const message of objects.msgs) {
    if (message.get('type') !== SYMBOL_TABLE_MESSAGE) continue;
    const root = address(view, Number(message.get('offset_to_message')));
    if (root !== undefined) walkGroupTree(view, root, charge);
  }
}

/**
 * Wraps jsfive's attribute decoding and group listing with the checks above, once per process.
 * `File` is jsfive's export; the probe file gives the internal class they live on.
 */
export function installJsfiveGuards(File: JsfiveFile): void {
  const probe = new File(probeFile(), 'probe.h5') as unknown as { _dataobjects?: object };
  const prototype = Object.getPrototypeOf(probe._dataobjects ?? {}) as DataObjects | null;
  if (prototype === null || typeof prototype._attr_value !== 'function' || typeof prototype.get_links !== 'function') {
    throw new Error('this jsfive version has no DataObjects class to guard; install the version package.json names');
  }
  if (installed.has(prototype)) return;
  const decodeAttribute = prototype._attr_value;
  const getLinks = prototype.get_links;
  prototype._attr_value = function guardedAttribute(this: DataObjects, dtype, buffer, count, offset) {
    if (active > 0) checkAttribute(dtype, buffer, count, offset);
    return decodeAttribute.call(this, dtype, buffer, count, offset);
  };
  prototype.get_links = function guardedLinks(this: DataObjects) {
    if (active > 0) checkGroupTrees(this);
    return getLinks.call(this);
  };
  installed.add(prototype);
}

/** Runs `read` (jsfive calls) with the checks on. */
export function withGuards<T>(read: () => T): T {
  active++;
  try {
    return read();
  } finally {
    active--;
  }
}
