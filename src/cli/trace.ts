/**
 * `run --trace`: one line per kernel call, named by the timm module it implements, with the
 * output's shape, min / max / mean / std and the time spent. When porting EfficientNet, the
 * first line whose statistics differ from the other implementation's is where they part ways.
 */
import type { StepEvent } from '../runtime/outputs.js';

export interface TraceRow {
  readonly module: string;
  readonly kind: string;
  readonly shape: readonly number[];
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly std: number;
  readonly milliseconds: number;
}

/** Statistics in float64 over the whole tensor (this is a debugging path, off the hot path). */
export function traceRow(event: StepEvent): TraceRow {
  const data = event.output();
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
  }
  const mean = sum / data.length;
  const std = Math.sqrt(Math.max(0, sumSquares / data.length - mean * mean));
  return { module: event.step.module, kind: event.step.kind, shape: event.shape, min, max, mean, std, milliseconds: event.milliseconds };
}

const number = (v: number): string => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4)).padStart(11);

export function formatTrace(rows: readonly TraceRow[]): string[] {
  const nameWidth = Math.max(6, ...rows.map((r) => r.module.length));
  const kindWidth = Math.max(4, ...rows.map((r) => r.kind.length));
  const shapeWidth = Math.max(5, ...rows.map((r) => r.shape.join('x').length));
  const lines = [
    `${'module'.padEnd(nameWidth)}  ${'kind'.padEnd(kindWidth)}  ${'shape'.padEnd(shapeWidth)}  ${'min'.padStart(11)}${'max'.padStart(11)}${'mean'.padStart(11)}${'std'.padStart(11)}${'ms'.padStart(9)}`,
  ];
  for (const r of rows) {
    lines.push(`${r.module.padEnd(nameWidth)}  ${r.kind.padEnd(kindWidth)}  ${r.shape.join('x').padEnd(shapeWidth)}  ` +
      `${number(r.min)}${number(r.max)}${number(r.mean)}${number(r.std)}${r.milliseconds.toFixed(3).padStart(9)}`);
  }
  const total = rows.reduce((s, r) => s + r.milliseconds, 0);
  lines.push(`total ${total.toFixed(2)} ms in ${rows.length} kernel calls (shapes: NHWC [n, h, w, c] for maps, [n, c] for vectors)`);
  return lines;
}
