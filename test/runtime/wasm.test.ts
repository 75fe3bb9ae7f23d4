import { describe, expect, it } from 'vitest';
import { instantiateCore } from '../../src/runtime/wasm.js';

describe('core instance', () => {
  it('exports its memory, heap base and shared constants', async () => {
    const core = await instantiateCore();
    expect(core.memory).toBeInstanceOf(WebAssembly.Memory);
    const heapBase = (core.heap_base as () => number)();
    expect(heapBase).toBeGreaterThan(0);
    expect(heapBase % 16).toBe(0);
    const codes = ['ACTIVATION_NONE', 'ACTIVATION_SWISH', 'ACTIVATION_RELU6', 'ACTIVATION_RELU'].map((name) => (core[name] as WebAssembly.Global).value);
    expect(new Set(codes).size).toBe(codes.length); // four distinct epilogue codes
    expect((core.FLOAT_BYTES as WebAssembly.Global).value).toBe(4);
  });
});
