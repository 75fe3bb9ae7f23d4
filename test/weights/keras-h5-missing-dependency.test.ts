/**
 * Without the optional HDF5 package, opening a Keras file is one typed error naming the package.
 * (A module factory without `File` stands in for a missing or broken install.)
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('jsfive', () => ({}));

describe('Keras .h5 without jsfive', () => {
  it('names the package to install', async () => {
    const { openKerasH5 } = await import('../../src/weights/hdf5/keras-h5.js');
    const { memoryByteSource } = await import('../../src/weights/byte-source.js');
    const { ConfigError } = await import('../../src/errors.js');
    const hdf5Signature = new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    const error = await openKerasH5(memoryByteSource(hdf5Signature)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('reading Keras .h5 weights needs the optional package jsfive@0.4.2: run npm install jsfive@0.4.2');
  });
});
