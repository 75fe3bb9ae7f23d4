/**
 * How one kernel call is cut into fixed work units that threads can share: each unit is the same
 * kernel called on a sub-range (rows of a GEMM, bands of output rows of a conv, pixels of a
 * scale). The cuts depend on the shapes alone, never on the thread count, and every kernel
 * computes each output element with the same operations whichever call covers it, so the units
 * give the whole call's bits however they are shared out (tested in test/threads/).
 */
import { bandCount, bandRows, type SpatialConv } from '../../plan/program.js';

/** A half-open range `[start, end)`. */
export type Range = readonly [number, number];

/**
 * Fewest GEMM rows per unit: every unit streams all of the weight panels, so a unit of few rows
 * pays that fetch for little work. With 8, B0's 7x7 GEMMs (49 rows) still get six units: three
 * per thread on two threads, two on three.
 */
export const MIN_UNIT_ROWS = 8;
/** Most GEMM rows per unit: the GEMM's own row block, so large GEMMs are cut where it cuts anyway. */
export const MAX_UNIT_ROWS = 256;
/** Units a GEMM is cut into when rows allow: enough for dynamic sharing to even out up to 4 threads. */
const TARGET_UNITS = 16;
/** Rows per GEMM microkernel tile; unit boundaries fall on tile boundaries so no unit has a ragged tile it could avoid. */
const TILE_ROWS = 2;
/** Output channels per packed GEMM panel (assembly/gemm.ts PANEL_WIDTH); column units start on panel boundaries. */
export const PANEL_WIDTH = 16;
/** Column groups per row when a GEMM has too few rows to cut by rows (the classifier). */
const COLUMN_GROUPS = 8;
/**
 * Fewest floats (256 KiB) a channel-scale unit touches. The multiply is one memory pass over
 * data the depthwise conv just wrote; smaller pieces cost more to hand out, and to fetch from
 * the other core's cache, than they save (measured on B0: cut at 64 KiB, its 14x14 and 7x7
 * scales ran slower on 2 threads than on 1).
 */
const MIN_SCALE_UNIT_FLOATS = 65536;
/** Most pieces a channel-scale over one image is cut into. */
const MAX_SCALE_UNITS = 16;

/** Part `part` of `count` items cut into `parts` near-equal consecutive parts. */
const evenPart = (count: number, parts: number, part: number): Range =>
  [Math.floor((part * count) / parts), Math.floor(((part + 1) * count) / parts)];

/**
 * Cuts `rows` GEMM rows into units: on large GEMMs, units of exactly MAX_UNIT_ROWS (the last one
 * shorter); otherwise up to TARGET_UNITS near-equal units of at least MIN_UNIT_ROWS rows, on tile
 * boundaries.
 */
export function gemmRowRanges(rows: number): Range[] {
  if (rows > TARGET_UNITS * (MAX_UNIT_ROWS - TILE_ROWS)) {
    return Array.from({ length: Math.ceil(rows / MAX_UNIT_ROWS) }, (_, u) => [u * MAX_UNIT_ROWS, Math.min(rows, (u + 1) * MAX_UNIT_ROWS)] as const);
  }
  // Below that threshold a unit averages at most MAX_UNIT_ROWS - TILE_ROWS rows, so aligning the
  // boundaries down to a tile keeps every unit within MAX_UNIT_ROWS.
  const units = Math.max(1, Math.min(TARGET_UNITS, Math.floor(rows / MIN_UNIT_ROWS)));
  const boundary = (u: number): number => (u === units ? rows : TILE_ROWS * Math.floor((u * rows) / units / TILE_ROWS));
  return Array.from({ length: units }, (_, u) => [boundary(u), boundary(u + 1)] as const);
}

/** Whether a GEMM has so few rows that it is cut by output columns instead, one row per unit. */
export const cutsByColumns = (rows: number, outChannels: number): boolean =>
  rows < MIN_UNIT_ROWS && outChannels > PANEL_WIDTH;

/** Cuts `outChannels` into up to COLUMN_GROUPS groups of whole panels (the last may end mid-panel). */
export function gemmColumnRanges(outChannels: number): Range[] {
  const panels = Math.ceil(outChannels / PANEL_WIDTH);
  const groups = Math.min(COLUMN_GROUPS, panels);
  return Array.from({ length: groups }, (_, g) => {
    const [first, last] = evenPart(panels, groups, g);
    return [first * PANEL_WIDTH, Math.min(outChannels, last * PANEL_WIDTH)] as const;
  });
}

/**
 * The output-row bands a strided conv's units cover: the program's bands (`bandCount`,
 * `bandRows`), which for the depthwise conv also fix how its channel sums are split.
 */
export function convBands(outHeight: number, bands: number = bandCount(outHeight)): Range[] {
  return Array.from({ length: bands }, (_, band) => bandRows(outHeight, bands, band));
}

/**
 * The conv a band of output rows starting at `firstOutputRow` amounts to: the input starts at
 * `firstRow`, and the band's own top padding is whatever of the image's padding its first window
 * still overlaps. The input keeps every row from there to the image's bottom, so rows that exist
 * are read as data and only the image's real edges are padded: each output element sees the
 * same taps, in the same order, as in the whole call.
 */
export function bandInput(conv: SpatialConv, firstOutputRow: number): { firstRow: number; padTop: number; height: number } {
  const top = firstOutputRow * conv.stride - conv.padTop; // input row of the band's first window's top tap
  const firstRow = Math.max(0, top);
  return { firstRow, padTop: firstRow - top, height: conv.height - firstRow };
}

/** Cuts one image's `spatial` pixels of `channels` floats into near-equal pixel ranges. */
export function pixelRanges(spatial: number, channels: number): Range[] {
  const pieces = Math.max(1, Math.min(MAX_SCALE_UNITS, spatial, Math.floor((spatial * channels) / MIN_SCALE_UNIT_FLOATS)));
  return Array.from({ length: pieces }, (_, piece) => evenPart(spatial, pieces, piece));
}
