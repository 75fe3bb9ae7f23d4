/**
 * A restricted unpickler: it reads the pickles `torch.save` writes for a state_dict and nothing
 * else. A pickle is a program for a stack machine whose GLOBAL and REDUCE opcodes import and call
 * arbitrary Python functions, which is how a `.pth` file can run `os.system`. Here nothing is ever
 * imported or called: GLOBAL only names one of the few callables in ALLOWED_GLOBALS, REDUCE only
 * applies one of them with the semantics written below, and any other name is refused with a
 * WeightsFormatError that names it. That allow-list is the security boundary.
 *
 * Limits keep hostile input from exhausting memory or the stack before anything is allocated:
 * string and byte lengths are checked against the bytes left, the memo and the stack are capped,
 * and containers may nest at most MAX_NESTING deep (every later walk over the result is then safe).
 *
 * Opcodes (pickle protocols 0 to 4, the subset torch.save and Python's pickler emit for dicts of
 * tensors): see Python's `Lib/pickletools.py` for each one's definition.
 */
import { WeightsFormatError } from '../../errors.js';

/** Storage classes a state_dict may reference, and the dtype of their elements. */
export const STORAGE_DTYPES = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
} as const;
export type StorageClass = keyof typeof STORAGE_DTYPES;

/** The only globals a weights pickle may name. */
export const ALLOWED_GLOBALS: readonly string[] = [
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  ...Object.keys(STORAGE_DTYPES).map((name) => `torch.${name}`),
];

/** A global the pickle named (always one of ALLOWED_GLOBALS). */
export class PickleGlobal {
  constructor(readonly qualifiedName: string) {}
}

/** A storage referenced by persistent id: `('storage', StorageClass, key, location, numel[, view])`. */
export class StorageRef {
  constructor(readonly storageClass: StorageClass, readonly key: string, readonly numel: number) {}
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view on a storage (offsets in elements). */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

/** A Python tuple (lists are plain arrays; tuples are immutable, so kept apart). */
export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** A dict or OrderedDict; keys are strings or numbers. */
export type PickleDict = Map<string | number, PickleValue>;

export type PickleValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PickleValue[] | PickleTuple | PickleDict | PickleGlobal | StorageRef | TensorRef;

/** The pickle never nests containers deeper than this; a state_dict needs about 5. */
export const MAX_NESTING = 100;
/** Memo entries and stack items: a B7 state_dict pickle uses a few thousand. */
export const MAX_MEMO = 1_000_000;
const MAX_STACK = 1_000_000;

export interface UnpickleOptions {
  /** Resolves a persistent id (a tuple) to a value: how torch refers to storages. */
  readonly persistentLoad: (id: PickleValue) => PickleValue;
  /** Which file, for messages (e.g. "archive/data.pkl"). */
  readonly where: string;
  /**
   * Whether `bytes` is only a prefix of a longer stream: running past its end then throws
   * NeedMoreBytes (the caller reads further and runs again) instead of reporting a truncation.
   */
  readonly more?: boolean;
}

/** The pickle continues past the prefix it was given; `atLeast` bytes are needed. */
export class NeedMoreBytes extends Error {
  constructor(readonly atLeast: number) {
    super(`a pickle needs at least ${atLeast} bytes`);
  }
}

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

const depths = new WeakMap<object, number>();
/** How deeply a value's containers nest (0 for a scalar). */
function depthOf(value: PickleValue): number {
  return typeof value === 'object' && value !== null ? depths.get(value) ?? 0 : 0;
}

/** A pickle program being run over `bytes` by the allow-listed machine. */
class Unpickler {
  private position = 0;
  private readonly stack: StackItem[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, private readonly options: UnpickleOptions) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(message: string): never {
    throw new WeightsFormatError(`PyTorch pickle ${this.options.where} at byte ${this.position}: ${message}`);
  }

  /** The byte just past the last opcode read. */
  get end(): number {
    return this.position;
  }

  private need(count: number, what: string): number {
    if (count < 0 || this.position + count > this.bytes.length) {
      if (this.options.more && count >= 0) throw new NeedMoreBytes(this.position + count);
      this.fail(`${what} needs ${count} bytes but only ${this.bytes.length - this.position} remain (the file is truncated or corrupt)`);
    }
    const at = this.position;
    this.position += count;
    return at;
  }

  private u8(): number { return this.bytes[this.need(1, 'an opcode argument')]; }
  private u16(): number { return this.view.getUint16(this.need(2, 'a 2-byte argument'), true); }
  private u32(): number { return this.view.getUint32(this.need(4, 'a 4-byte argument'), true); }
  private i32(): number { return this.view.getInt32(this.need(4, 'a 4-byte integer'), true); }
  private u64(what: string): number {
    const at = this.need(8, what);
    const value = this.view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} of ${value} bytes is impossible`);
    return Number(value);
  }

  private rawBytes(length: number, what: string): Uint8Array {
    const at = this.need(length, what);
    return this.bytes.subarray(at, at + length);
  }

  private text(length: number): string {
    const raw = this.rawBytes(length, 'a string');
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      return this.fail('a string is not valid UTF-8');
    }
  }

  /** A newline-terminated line (GLOBAL's arguments), at most 256 bytes. */
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.position);
    if (end < 0 || end - this.position > 256) this.fail('a GLOBAL name is not terminated by a newline within 256 bytes');
    const value = new TextDecoder('latin1').decode(this.bytes.subarray(this.position, end));
    this.position = end + 1;
    return value;
  }

  private push(value: StackItem): void {
    if (this.stack.length >= MAX_STACK) this.fail(`the stack passes ${MAX_STACK} items`);
    this.stack.push(value);
  }

  private pop(): PickleValue {
    const value = this.stack.pop();
    if (value === undefined) this.fail('an opcode pops from an empty stack');
    if (value === MARK) this.fail('an opcode pops a MARK');
    return value;
  }

  private top(): PickleValue {
    const value = this.stack[this.stack.length - 1];
    if (value === undefined || value === MARK) this.fail('an opcode needs a value on the stack');
    return value;
  }

  /** Items pushed since the last MARK, which is removed. */
  private popToMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail('an opcode needs a MARK and there is none');
    const items = this.stack.splice(mark) as StackItem[];
    items.shift(); // the MARK itself
    return items as PickleValue[];
  }

  /** Records that `container` now holds `child`, refusing nesting past MAX_NESTING. */
  private contain(container: object, child: PickleValue): void {
    const depth = Math.max(depths.get(container) ?? 1, depthOf(child) + 1);
    if (depth > MAX_NESTING) this.fail(`containers nest more than ${MAX_NESTING} deep`);
    depths.set(container, depth);
  }

  private newContainer<T extends object>(container: T, children: readonly PickleValue[]): T {
    depths.set(container, 1);
    for (const child of children) this.contain(container, child);
    return container;
  }

  private tuple(items: PickleValue[]): PickleTuple {
    return this.newContainer(new PickleTuple(items), items);
  }

  private memoPut(index: number, value: PickleValue): void {
    if (index >= MAX_MEMO || (!this.memo.has(index) && this.memo.size >= MAX_MEMO)) {
      this.fail(`memo index ${index} passes the limit of ${MAX_MEMO} entries`);
    }
    this.memo.set(index, value);
  }

  private memoGet(index: number): PickleValue {
    const value = this.memo.get(index);
    if (value === undefined) this.fail(`memo entry ${index} is read before it is written`);
    return value;
  }

  private global(module: string, name: string): PickleGlobal {
    const qualified = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.includes(qualified)) {
      // Quote safely: a hostile name may hold control characters or be long.
      const shown = JSON.stringify(qualified.length > 80 ? `${qualified.slice(0, 80)}…` : qualified);
      this.fail(
        `refers to ${shown}, which a weights file does not need, so it is refused and never run ` +
          `(allowed: ${ALLOWED_GLOBALS.join(', ')}). If this file holds a whole pickled model, ` +
          'save its state_dict instead: torch.save(model.state_dict(), path)',
      );
    }
    return new PickleGlobal(qualified);
  }

  private setItems(target: PickleValue, pairs: readonly PickleValue[]): void {
    if (!(target instanceof Map)) this.fail('SETITEM(S) applies to something that is not a dict');
    if (pairs.length % 2 !== 0) this.fail('SETITEMS has an odd number of items');
    for (let i = 0; i < pairs.length; i += 2) {
      const key = pairs[i];
      if (typeof key !== 'string' && typeof key !== 'number') this.fail('a dict key is neither a string nor an integer');
      this.contain(target, pairs[i + 1]);
      target.set(key, pairs[i + 1]);
    }
  }

  private appendItems(target: PickleValue, items: readonly PickleValue[]): void {
    if (!Array.isArray(target)) this.fail('APPEND(S) applies to something that is not a list');
    for (const item of items) {
      this.contain(target, item);
      target.push(item);
    }
  }

  private integer(value: PickleValue, what: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      this.fail(`${what} must be a non-negative integer`);
    }
    return value;
  }

  private integerTuple(value: PickleValue, what: string): number[] {
    if (!(value instanceof PickleTuple) && !Array.isArray(value)) this.fail(`${what} must be a tuple of integers`);
    const items = value instanceof PickleTuple ? value.items : value;
    return items.map((item) => this.integer(item, `each entry of ${what}`));
  }

  /** REDUCE: applies one of the allowed callables. Everything else was refused at GLOBAL. */
  private reduce(callable: PickleValue, args: PickleValue): PickleValue {
    if (!(callable instanceof PickleGlobal)) this.fail('REDUCE applies something that is not an allowed callable');
    if (!(args instanceof PickleTuple)) this.fail(`REDUCE on ${callable.qualifiedName} needs a tuple of arguments`);
    const a = args.items;
    switch (callable.qualifiedName) {
      case 'collections.OrderedDict':
        if (a.length !== 0) this.fail('OrderedDict is only rebuilt empty (its items follow as SETITEMS)');
        return this.newContainer(new Map(), []);
      case 'torch._utils._rebuild_tensor_v2': {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (a.length < 4) this.fail('_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)');
        const [storage, offset, size, stride] = a;
        if (!(storage instanceof StorageRef)) this.fail('_rebuild_tensor_v2 needs a storage as its first argument');
        const shape = this.integerTuple(size, 'a tensor size');
        const strides = this.integerTuple(stride, 'a tensor stride');
        if (shape.length !== strides.length) this.fail(`a tensor has ${shape.length} sizes but ${strides.length} strides`);
        return new TensorRef(storage, this.integer(offset, 'a storage offset'), shape, strides);
      }
      case 'torch._utils._rebuild_parameter': {
        // (data, requires_grad, backward_hooks): a Parameter is its data for inference.
        if (a.length < 1 || !(a[0] instanceof TensorRef)) this.fail('_rebuild_parameter needs a tensor');
        return a[0];
      }
      default:
        return this.fail(`${callable.qualifiedName} cannot be called; it is only a storage type`);
    }
  }

  private build(target: PickleValue, state: PickleValue): void {
    // torch pickles a state_dict's `_metadata` (per-module versions) as the OrderedDict's state.
    // Inference does not need it; it is checked to be a dict and dropped.
    if (!(target instanceof Map) || !(state instanceof Map || state === null)) {
      this.fail('BUILD is only accepted as a dict\'s attribute state');
    }
  }

  private persistent(id: PickleValue): PickleValue {
    return this.options.persistentLoad(id);
  }

  run(): PickleValue {
    for (;;) {
      const opcode = this.u8();
      switch (opcode) {
        case 0x80: { // PROTO
          const protocol = this.u8();
          if (protocol > 5) this.fail(`pickle protocol ${protocol} is newer than any this reads (up to 5)`);
          break;
        }
        case 0x95: this.u64('a FRAME'); break; // FRAME: a length hint only
        case 0x2e: { // STOP
          const result = this.pop();
          return result;
        }
        case 0x28: this.marks.push(this.stack.length); this.push(MARK); break; // MARK
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.push(this.u16()); break; // BININT2
        case 0x4a: this.push(this.i32()); break; // BININT
        case 0x8a: this.push(this.long(this.u8())); break; // LONG1
        case 0x8b: { // LONG4
          const length = this.i32();
          if (length < 0 || length > 64) this.fail(`an integer of ${length} bytes is not a size or index`);
          this.push(this.long(length));
          break;
        }
        case 0x47: this.push(this.view.getFloat64(this.need(8, 'a float'), false)); break; // BINFLOAT (big-endian)
        case 0x58: this.push(this.text(this.u32())); break; // BINUNICODE
        case 0x8c: this.push(this.text(this.u8())); break; // SHORT_BINUNICODE
        case 0x8d: this.push(this.text(this.u64('a BINUNICODE8 string'))); break; // BINUNICODE8
        case 0x42: this.push(this.rawBytes(this.u32(), 'a BINBYTES value')); break; // BINBYTES
        case 0x43: this.push(this.rawBytes(this.u8(), 'a SHORT_BINBYTES value')); break; // SHORT_BINBYTES
        case 0x8e: this.push(this.rawBytes(this.u64('a BINBYTES8 value'), 'a BINBYTES8 value')); break; // BINBYTES8
        case 0x55: this.push(new TextDecoder('latin1').decode(this.rawBytes(this.u8(), 'a SHORT_BINSTRING'))); break; // SHORT_BINSTRING
        case 0x54: { // BINSTRING
          const length = this.i32();
          this.push(new TextDecoder('latin1').decode(this.rawBytes(length, 'a BINSTRING')));
          break;
        }
        case 0x7d: this.push(this.newContainer(new Map(), [])); break; // EMPTY_DICT
        case 0x5d: this.push(this.newContainer([], [])); break; // EMPTY_LIST
        case 0x29: this.push(this.tuple([])); break; // EMPTY_TUPLE
        case 0x85: this.push(this.tuple([this.pop()])); break; // TUPLE1
        case 0x86: { const b = this.pop(); const a = this.pop(); this.push(this.tuple([a, b])); break; } // TUPLE2
        case 0x87: { const c = this.pop(); const b = this.pop(); const a = this.pop(); this.push(this.tuple([a, b, c])); break; } // TUPLE3
        case 0x74: this.push(this.tuple(this.popToMark())); break; // TUPLE
        case 0x6c: { const items = this.popToMark(); this.push(this.newContainer(items, items)); break; } // LIST
        case 0x64: { // DICT
          const items = this.popToMark();
          const dict: PickleDict = this.newContainer(new Map(), []);
          this.setItems(dict, items);
          this.push(dict);
          break;
        }
        case 0x61: { const item = this.pop(); this.appendItems(this.top(), [item]); break; } // APPEND
        case 0x65: { const items = this.popToMark(); this.appendItems(this.top(), items); break; } // APPENDS
        case 0x73: { const value = this.pop(); const key = this.pop(); this.setItems(this.top(), [key, value]); break; } // SETITEM
        case 0x75: { const items = this.popToMark(); this.setItems(this.top(), items); break; } // SETITEMS
        case 0x71: this.memoPut(this.u8(), this.top()); break; // BINPUT
        case 0x72: this.memoPut(this.u32(), this.top()); break; // LONG_BINPUT
        case 0x94: this.memoPut(this.memo.size, this.top()); break; // MEMOIZE
        case 0x68: this.push(this.memoGet(this.u8())); break; // BINGET
        case 0x6a: this.push(this.memoGet(this.u32())); break; // LONG_BINGET
        case 0x63: { const module = this.line(); this.push(this.global(module, this.line())); break; } // GLOBAL
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings');
          this.push(this.global(module, name));
          break;
        }
        case 0x52: { const args = this.pop(); const callable = this.pop(); this.push(this.reduce(callable, args)); break; } // REDUCE
        case 0x62: { const state = this.pop(); this.build(this.top(), state); break; } // BUILD
        case 0x51: this.push(this.persistent(this.pop())); break; // BINPERSID
        case 0x30: this.pop(); break; // POP
        case 0x32: this.push(this.top()); break; // DUP
        default: {
          const name = OPCODE_NAMES[opcode];
          this.position -= 1;
          this.fail(name
            ? `opcode ${name} is not used by weights files and is refused`
            : `byte 0x${opcode.toString(16).padStart(2, '0')} is not a pickle opcode`);
        }
      }
    }
  }

  /** A little-endian two's-complement integer of `length` bytes; sizes and indices must stay exact. */
  private long(length: number): number | bigint {
    const raw = this.rawBytes(length, 'a long integer');
    let value = 0n;
    for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
    if (length > 0 && raw[length - 1] & 0x80) value -= 1n << BigInt(8 * length);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
}

/** Opcodes recognised only to name them when refused (they build objects or run code). */
const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x50: 'PERSID', 0x82: 'EXT1', 0x83: 'EXT2',
  0x84: 'EXT4', 0x49: 'INT', 0x4c: 'LONG', 0x53: 'STRING', 0x56: 'UNICODE', 0x46: 'FLOAT', 0x67: 'GET', 0x70: 'PUT',
  0x31: 'POP_MARK', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

/** Runs one pickle; returns its value and the byte just past its STOP (legacy files hold several). */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): { value: PickleValue; end: number } {
  const machine = new Unpickler(bytes, options);
  const value = machine.run();
  return { value, end: machine.end };
}

/** Reads a storage persistent id `('storage', Class, key, location, numel, ...)`. */
export function storageFromPersistentId(id: PickleValue, where: string): StorageRef {
  const fail = (message: string): never => {
    throw new WeightsFormatError(`PyTorch pickle ${where}: ${message}`);
  };
  if (!(id instanceof PickleTuple) || id.items.length < 5 || id.items[0] !== 'storage') {
    return fail('a persistent id is not a storage reference (\'storage\', type, key, location, size)');
  }
  const [, type, key, , numel] = id.items;
  if (!(type instanceof PickleGlobal)) return fail('a storage reference has no storage type');
  const storageClass = type.qualifiedName.replace(/^torch\./, '');
  if (!(storageClass in STORAGE_DTYPES)) return fail(`${type.qualifiedName} is not a storage type`);
  if (typeof key !== 'string' || key.length === 0 || key.length > 64) return fail('a storage key is not a short string');
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) return fail('a storage size is not a non-negative integer');
  return new StorageRef(storageClass as StorageClass, key, numel);
}
