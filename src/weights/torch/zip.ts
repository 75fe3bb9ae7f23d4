/**
 * A minimal ZIP reader for what `torch.save` writes: stored (uncompressed) entries, ZIP64 when
 * the archive or an entry passes 4 GiB. It reads the central directory by range and returns
 * each entry's byte range in the file, so tensor data is read in place, never decompressed into
 * a second copy. A compressed entry (a re-zipped checkpoint) is reported as such when read.
 *
 * Layout (PKWARE APPNOTE 6.3): local headers + data ... central directory ... [ZIP64 end record,
 * ZIP64 locator] end-of-central-directory record (22 bytes + a comment of up to 65535 bytes).
 */
import { quoted } from './quote.js';
import { WeightsFormatError } from '../../errors.js';
import type { ByteSource } from '../source.js';

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflate, ...: only 0 can be read. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of the entry's local header. */
  readonly localHeader: number;
}

export interface ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** The byte range [begin, end) of a stored entry's data. */
  dataRange(entry: ZipEntry): { begin: number; end: number };
}

const END_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_END_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const END_BYTES = 22;
const MAX_COMMENT = 65535;
const CENTRAL_BYTES = 46;
const LOCAL_BYTES = 30;
/** A checkpoint holds a few entries per tensor; L2 has under 5,000. */
export const MAX_ZIP_ENTRIES = 1_000_000;
/** Its central directory is about 100 bytes per entry (L2's is under 1 MB); a larger one is refused unread. */
export const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;

function fail(message: string): never {
  throw new WeightsFormatError(`PyTorch zip archive: ${message}`);
}

const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function u64(data: DataView, at: number, what: string): number {
  const value = data.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${value} is too large to address`);
  return Number(value);
}

/** The end-of-central-directory record: the last signature within the final 22 + 65535 bytes. */
function findEnd(source: ByteSource): { at: number; record: DataView } {
  if (source.length < END_BYTES) fail(`${source.length} bytes is too short to be a zip archive`);
  const tailLength = Math.min(source.length, END_BYTES + MAX_COMMENT);
  const tailStart = source.length - tailLength;
  const tail = source.read(tailStart, tailLength);
  const data = view(tail);
  for (let i = tailLength - END_BYTES; i >= 0; i--) {
    if (data.getUint32(i, true) === END_SIGNATURE && i + END_BYTES + data.getUint16(i + 20, true) === tailLength) {
      return { at: tailStart + i, record: new DataView(tail.buffer, tail.byteOffset + i, END_BYTES) };
    }
  }
  return fail('no end-of-central-directory record (the file is truncated or not a zip archive)');
}

interface Directory { readonly count: number; readonly offset: number; readonly size: number }

function readDirectoryLocation(source: ByteSource): Directory {
  const { at, record } = findEnd(source);
  let count = record.getUint16(10, true);
  let size = record.getUint32(12, true);
  let offset = record.getUint32(16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    if (at < 20) fail('a ZIP64 archive without its ZIP64 locator');
    const locator = view(source.read(at - 20, 20));
    if (locator.getUint32(0, true) !== ZIP64_LOCATOR_SIGNATURE) fail('a ZIP64 archive without its ZIP64 locator');
    const endAt = u64(locator, 8, 'the ZIP64 end record offset');
    if (endAt + 56 > source.length) fail('the ZIP64 end record lies past the end of the file');
    const end64 = view(source.read(endAt, 56));
    if (end64.getUint32(0, true) !== ZIP64_END_SIGNATURE) fail('the ZIP64 end record has a wrong signature');
    count = u64(end64, 32, 'the entry count');
    size = u64(end64, 40, 'the central directory size');
    offset = u64(end64, 48, 'the central directory offset');
  }
  if (count > MAX_ZIP_ENTRIES) fail(`${count} entries is more than the ${MAX_ZIP_ENTRIES} a checkpoint can have`);
  if (offset + size > source.length) fail(`the central directory (${size} bytes at ${offset}) runs past the end of the ${source.length}-byte file`);
  if (size > MAX_DIRECTORY_BYTES) fail(`a central directory of ${size} bytes is more than a checkpoint needs (limit ${MAX_DIRECTORY_BYTES})`);
  if (size < count * CENTRAL_BYTES) fail(`the central directory of ${size} bytes cannot hold ${count} entries`);
  return { count, offset, size };
}

/** The ZIP64 extended-information extra field (id 1) replaces the 32-bit fields that are all ones. */
function applyZip64Extra(
  extra: Uint8Array, fields: { size: number; compressedSize: number; localHeader: number }, name: string,
): void {
  const data = view(extra);
  for (let at = 0; at + 4 <= extra.length;) {
    const id = data.getUint16(at, true);
    const length = data.getUint16(at + 2, true);
    if (at + 4 + length > extra.length) fail(`entry ${quoted(name)} has an extra field running past its end`);
    if (id === 1) {
      let cursor = at + 4;
      const next = (what: string): number => {
        if (cursor + 8 > at + 4 + length) fail(`entry ${quoted(name)} has a ZIP64 field too short for its ${what}`);
        const value = u64(data, cursor, `entry ${quoted(name)} ${what}`);
        cursor += 8;
        return value;
      };
      if (fields.size === 0xffffffff) fields.size = next('size');
      if (fields.compressedSize === 0xffffffff) fields.compressedSize = next('compressed size');
      if (fields.localHeader === 0xffffffff) fields.localHeader = next('header offset');
      return;
    }
    at += 4 + length;
  }
}

export function openZip(source: ByteSource): ZipArchive {
  const directory = readDirectoryLocation(source);
  const central = source.read(directory.offset, directory.size);
  const data = view(central);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  for (let i = 0; i < directory.count; i++) {
    if (at + CENTRAL_BYTES > central.length || data.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      fail(`central directory entry ${i} is missing or damaged`);
    }
    const method = data.getUint16(at + 10, true);
    const nameLength = data.getUint16(at + 28, true);
    const extraLength = data.getUint16(at + 30, true);
    const commentLength = data.getUint16(at + 32, true);
    const fields = {
      compressedSize: data.getUint32(at + 20, true),
      size: data.getUint32(at + 24, true),
      localHeader: data.getUint32(at + 42, true),
    };
    const nameStart = at + CENTRAL_BYTES;
    const extraStart = nameStart + nameLength;
    const next = extraStart + extraLength + commentLength;
    if (next > central.length) fail(`central directory entry ${i} runs past the directory's end`);
    let name: string;
    try {
      name = decoder.decode(central.subarray(nameStart, extraStart));
    } catch {
      return fail(`central directory entry ${i} has a name that is not UTF-8`);
    }
    applyZip64Extra(central.subarray(extraStart, extraStart + extraLength), fields, name);
    if (entries.has(name)) fail(`entry ${quoted(name)} appears twice`);
    if (fields.localHeader + LOCAL_BYTES > source.length) fail(`entry ${quoted(name)} starts past the end of the file`);
    entries.set(name, { name, method, ...fields });
    at = next;
  }
  return {
    entries,
    dataRange(entry: ZipEntry): { begin: number; end: number } {
      if (entry.method !== 0) {
        fail(`entry ${quoted(entry.name)} is compressed (method ${entry.method}); torch.save stores entries ` +
          'uncompressed, so this archive was re-packed: re-save it with torch.save, or unzip and re-zip it with "zip -0"');
      }
      if (entry.size !== entry.compressedSize) fail(`entry ${quoted(entry.name)} is stored but its sizes differ`);
      const local = view(source.read(entry.localHeader, LOCAL_BYTES));
      if (local.getUint32(0, true) !== LOCAL_SIGNATURE) fail(`entry ${quoted(entry.name)} has no local header where the directory says`);
      const begin = entry.localHeader + LOCAL_BYTES + local.getUint16(26, true) + local.getUint16(28, true);
      const end = begin + entry.size;
      if (end > source.length) fail(`entry ${quoted(entry.name)} (${entry.size} bytes at ${begin}) runs past the end of the file`);
      return { begin, end };
    },
  };
}
