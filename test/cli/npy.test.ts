import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/cli/npy.js';
import { InputShapeError } from '../../src/errors.js';

function npyWithHeader(header: string, dataBytes: number, version = 1): Uint8Array {
  const lengthBytes = version === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lengthBytes + header.length + dataBytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[8 + lengthBytes + i] = header.charCodeAt(i);
  return out;
}

describe('.npy', () => {
  it('round-trips float32 C-order arrays with 64-byte aligned data', () => {
    const data = Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i * 0.5 - 7);
    const bytes = encodeNpy(data, [2, 3, 4, 5]);
    expect((bytes.length - data.byteLength) % 64).toBe(0);
    const parsed = parseNpy(bytes);
    expect(parsed.shape).toEqual([2, 3, 4, 5]);
    expect(parsed.data).toEqual(data);
  });
  it('reads float64 and version 2 headers', () => {
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n";
    const bytes = npyWithHeader(header, 24, 2);
    const view = new DataView(bytes.buffer);
    [1.5, -2.25, 1e-3].forEach((v, i) => view.setFloat64(bytes.length - 24 + i * 8, v, true));
    expect(Array.from(parseNpy(bytes).data)).toEqual([1.5, -2.25, Math.fround(1e-3)]);
  });
  it.each([
    ['bad magic', new Uint8Array(64), /magic/],
    ['bad version', (() => { const b = encodeNpy(new Float32Array(1), [1]); b[6] = 9; return b; })(), /version 9/],
    ['Fortran order', npyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", 4), /Fortran/],
    ['integer dtype', npyWithHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", 4), /<i4/],
    ['big-endian', npyWithHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 4), />f4/],
    ['truncated data', npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20), /needs 24 data bytes/],
    ['negative size', npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4), /non-negative/],
    ['header past end', (() => { const b = encodeNpy(new Float32Array(1), [1]); new DataView(b.buffer).setUint16(8, 60000, true); return b; })(), /past the end/],
  ])('refuses %s with InputShapeError', (_name, bytes, message) => {
    expect(() => parseNpy(bytes)).toThrow(InputShapeError);
    expect(() => parseNpy(bytes)).toThrow(message);
  });
});
