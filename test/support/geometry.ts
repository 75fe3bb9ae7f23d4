/**
 * Where a kxk window reads, for the kernel tests: the same padding rule the planner uses
 * (`axisGeometry`), in the shape the scalar twins take.
 */
import type { PaddingMode } from '../../src/arch/padding.js';
import { axisGeometry } from '../../src/plan/geometry.js';
import type { WindowGeometry } from '../../src/runtime/reference/conv.js';

export interface WindowCase {
  readonly h: number;
  readonly w: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: PaddingMode;
}

export function windowGeometry(c: WindowCase): WindowGeometry {
  const rows = axisGeometry(c.h, c.kernel, c.stride, c.padding);
  const columns = axisGeometry(c.w, c.kernel, c.stride, c.padding);
  return { stride: c.stride, padTop: rows.before, padLeft: columns.before, outH: rows.output, outW: columns.output };
}
