/**
 * A small writer of stored (uncompressed) zip archives for tests, laid out as torch.save lays
 * them out, with an option to write every size and offset through ZIP64 records, as a writer does
 * for archives past 4 GiB, so the reader's ZIP64 path runs on a file of a few kilobytes.
 */
import { concat } from './mutate.js';

export interface ZipInput {
  readonly name: string;
  readonly data: Uint8Array;
}

const u16 = (value: number): Uint8Array => new Uint8Array(new Uint16Array([value]).buffer);
const u32 = (value: number): Uint8Array => {
  const bytes = new Uint8Array(4); // [u32 little-endian]
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
};
const u64 = (value: number): Uint8Array => {
  const bytes = new Uint8Array(8); // [u64 little-endian]
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
  return bytes;
};

/** A stored zip of `entries`; with `zip64`, every 32-bit size and offset is 0xffffffff and the real value sits in ZIP64 fields. */
export function writeStoredZip(entries: readonly ZipInput[], options: { zip64?: boolean } = {}): Uint8Array {
  const zip64 = options.zip64 ?? false;
  const encoder = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const size = entry.data.length;
    // CRC-32 is left 0: the reader does not check it (torch's own reader does not either for stored data).
    const local = concat(
      u32(0x04034b50), u16(zip64 ? 45 : 20), u16(0), u16(0), u16(0), u16(0), u32(0),
      u32(zip64 ? 0xffffffff : size), u32(zip64 ? 0xffffffff : size), u16(name.length), u16(zip64 ? 20 : 0), name,
      zip64 ? concat(u16(1), u16(16), u64(size), u64(size)) : new Uint8Array(0),
      entry.data,
    );
    const extra = zip64 ? concat(u16(1), u16(24), u64(size), u64(size), u64(offset)) : new Uint8Array(0);
    centrals.push(concat(
      u32(0x02014b50), u16(zip64 ? 45 : 20), u16(zip64 ? 45 : 20), u16(0), u16(0), u16(0), u16(0), u32(0),
      u32(zip64 ? 0xffffffff : size), u32(zip64 ? 0xffffffff : size), u16(name.length), u16(extra.length), u16(0),
      u16(0), u16(0), u32(0), u32(zip64 ? 0xffffffff : offset), name, extra,
    ));
    locals.push(local);
    offset += local.length;
  }
  const directory = concat(...centrals);
  const directoryOffset = offset;
  const parts = [...locals, directory];
  if (zip64) {
    const endOffset = directoryOffset + directory.length;
    parts.push(concat(
      u32(0x06064b50), u64(44), u16(45), u16(45), u32(0), u32(0),
      u64(entries.length), u64(entries.length), u64(directory.length), u64(directoryOffset),
    ));
    parts.push(concat(u32(0x07064b50), u32(0), u64(endOffset), u32(1)));
  }
  parts.push(concat(
    u32(0x06054b50), u16(0), u16(0), u16(zip64 ? 0xffff : entries.length), u16(zip64 ? 0xffff : entries.length),
    u32(zip64 ? 0xffffffff : directory.length), u32(zip64 ? 0xffffffff : directoryOffset), u16(0),
  ));
  return concat(...parts);
}
