/**
 * Where a strided convolution reads: output size and the zero padding before the first row or
 * column. The two checkpoint families differ only here, and it changes every border pixel.
 */
import { ConfigError } from '../errors.js';
import type { PaddingMode } from '../arch/padding.js';

export type { PaddingMode } from '../arch/padding.js';

export interface AxisGeometry {
  /** Output length along the axis. */
  readonly output: number;
  /** Zero rows (or columns) before the input. */
  readonly before: number;
  /** Zero rows (or columns) after the input that the last output actually reads. */
  readonly after: number;
}

export function axisGeometry(size: number, kernel: number, stride: number, mode: PaddingMode): AxisGeometry {
  if (mode === 'same') {
    const output = Math.ceil(size / stride);
    const total = Math.max((output - 1) * stride + kernel - size, 0);
    const before = Math.floor(total / 2);
    return { output, before, after: total - before };
  }
  if (mode === 'symmetric') {
    const pad = Math.floor(kernel / 2);
    const output = Math.floor((size + 2 * pad - kernel) / stride) + 1;
    return { output, before: pad, after: Math.max((output - 1) * stride + kernel - size - pad, 0) };
  }
  throw new ConfigError(`unknown padding "${String(mode)}": expected "same" or "symmetric"`);
}
