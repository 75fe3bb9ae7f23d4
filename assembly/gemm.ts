// Pointwise (1x1) convolution and fully-connected layers as one GEMM:
//   output[rows, N] = act(input[rows, K] · Wᵀ + bias) (+ residual)
// This is where most of EfficientNet's multiply-adds are, so it is register-blocked SIMD.
//
// The technique (as in XNNPACK's wasmsimd "loadsplat" GEMMs): weights are packed once into
// panels of 16 output channels, K-major, so one k step of a panel is four consecutive f32x4
// loads. The microkernel keeps a tile of 2 rows x 16 outputs (8 f32x4 accumulators) in
// registers, broadcasts one input value per row straight from memory (v128.load32_splat, a
// load-port broadcast that leaves the float pipes free) and does a separate f32x4.mul and
// f32x4.add per accumulator.
//
// Why 2 x 16: x64 engines give wasm 15 vector registers, and V8 hoists every load of a loop
// trip to its top, so one k step's loads (4 weight vectors + 2 broadcasts) plus the 8
// accumulators and a product must fit at once. 4 x 8 fits too, but it bumps four input row
// pointers per k step instead of two; with separate mul and add the loop is bound by how fast
// instructions issue, so those bumps cost about 8% (measured). The one exception is a last
// panel with at most 8 real columns (N = 24, 40, ...): there a 4 x 8 tile skips the panel's zero
// half, which is worth more than the bumps (measured 10-17% faster on those layers).
//
// The broadcasts stay loads rather than lane shuffles of one vector load per row (measured
// 2026-12-03 with bench/gemm.bench.ts --before on a Zen 5 host). V8 turns one k step into 27 x64
// instructions (8 mulps, 8 addps, 4 weight loads, 2 broadcast loads, 3 pointer adds, the loop
// test), which run at 86-91% of the ceiling. A shuffle needs one of the float pipes that the
// multiplies and adds use; a broadcast load does not. So with free inputs (a lane of a weight
// vector shuffled, wrong results) the loop was 8-15% slower, and dropping the broadcasts
// altogether made it only 2-9% faster. The real versions were slower still. Four k steps
// unrolled by hand (1 load and 4 shuffles per row) were 1.4-2.3x slower: Binaryen fuses the
// steps, and the 16 weight vectors spill. One k step per trip, with a row's vector rotated a
// lane each step and reloaded every fourth (2 shuffles per row per step), was 1.2-1.3x slower
// for one row and 1.3-1.5x for both: the rotating vector needs a 16th register, which V8 spills
// every step. Packing the input cannot cut the loads per multiply-add, which the tile sets (6
// per 8). Plain loads of pre-broadcast copies measured within 3% of broadcasts, and one pointer
// for both rows saves at most 3%, less than a packing pass costs.
//
// Swish is not applied in the tile: it runs as a separate pass over each finished row block
// (still in L2), four independent vectors at a time (math.ts). Inside the tile it had to share
// the registers with the accumulators and spilled; the pass measured 1.6x faster on the K = 16
// expand layer and 1.2x on K = 24, whose activation costs about as much as their multiply-adds,
// and 5-10% on the others. Tried again without touching the loop (one inlined copy of the tile
// per activation, so the no-activation path kept its speed): swish on the accumulators as the
// last K block stores them was still 11-17% slower than the pass on those two layers, and a pass
// over each panel's strip of rows right after its tiles (in L1 instead of L2) was within noise
// of it (bench/gemm.bench.ts --swish, 2026-12-03). The pass costs swish's arithmetic, not memory:
// on a 96 KiB block it takes 0.84 ns per float against 0.05 for the copy alone, so there is
// nothing for a fused store to save, and in the tile the arithmetic has fewer independent vectors
// to overlap than the pass's four.
//
// Determinism: every output element has exactly one accumulator, which starts at the bias
// (or 0) and adds a_k * w_k for k = 0 .. K-1 in order. A row tail reuses the microkernel
// with the spare row's pointers aliased onto the real row, column tails compute on the
// zero-padded panel and store only the real lanes, and K blocking parks the f32 accumulator
// in the output and reloads it, which is exact. Swish and the residual add are the same
// operations on every element whichever pass applies them. So an element's bits never depend
// on which tile, tail or row range (thread split) computed it.
import { ACTIVATION_NONE } from './constants';
import { madd } from './madd';
import { activate_in_place, addInPlace } from './math';

/** Output channels per packed weight panel: four f32x4 vectors side by side. */
const PANEL_WIDTH: i32 = 16;
/** Rows per microkernel tile (see the file comment for why 2 x 16). */
const TILE_ROWS: i32 = 2;
/** A last panel with at most this many real columns uses the narrow 4 x 8 tile instead. */
const HALF_PANEL_WIDTH: i32 = 8;
/** Rows per narrow tile: 4 x 8 keeps the same 8 accumulators as 2 x 16. */
const NARROW_TILE_ROWS: i32 = 4;
/** K values per block: a panel's slice is K_BLOCK x 16 floats (16 KiB), which stays in L1
 *  while every row tile of a row block streams past it. */
const K_BLOCK: i32 = 256;
/** Rows per block (a multiple of TILE_ROWS): ROW_BLOCK x K_BLOCK input floats (256 KiB)
 *  stay in L2 while the loop cycles through all panels. */
const ROW_BLOCK: i32 = 256;

const FLOAT_SIZE: usize = 4;

/** Floats needed by gemm_pack's output: K x 16 per panel, output channels rounded up to 16. */
export function gemm_packed_floats(inChannels: i32, outChannels: i32): i32 {
  return panelCount(outChannels) * PANEL_WIDTH * inChannels;
}

/**
 * Repacks PyTorch weights `[outChannels, inChannels]` (conv 1x1 or linear) into panels:
 * destination[panel][k][j] = source[panel * 16 + j][k], zero where panel * 16 + j >= outChannels.
 * source and destination must not overlap.
 */
export function gemm_pack(source: usize, inChannels: i32, outChannels: i32, destination: usize): void {
  let target = destination; // [panels, inChannels, 16]
  const panels = panelCount(outChannels);
  for (let panel = 0; panel < panels; panel++) {
    for (let k = 0; k < inChannels; k++) {
      for (let j = 0; j < PANEL_WIDTH; j++) {
        const channel = panel * PANEL_WIDTH + j;
        const value: f32 = channel < outChannels
          ? load<f32>(source + (<usize>channel * <usize>inChannels + <usize>k) * FLOAT_SIZE)
          : 0;
        store<f32>(target, value);
        target += FLOAT_SIZE;
      }
    }
  }
}

/**
 * destination = packedWeights with input channel k's weights multiplied by scale[k]: the packed
 * weights of the layer that sees input[., k] * scale[k], for one call's worth of rows. Both are
 * gemm_pack's layout `[panels, inChannels, 16]`; scale is `[inChannels]`. One rounding per weight,
 * fl(w * s), whichever rows or threads later use the result. The buffers may be the same.
 *
 * Why: a per-image, per-channel gate (squeeze-and-excitation) in front of a GEMM costs a multiply
 * per input float; on a map with more pixels than the layer has (16-rounded) outputs, scaling the
 * weights is fewer multiplies and leaves the map untouched.
 */
export function gemm_scale_inputs(
  packedWeights: usize, inChannels: i32, outChannels: i32, scale: usize, destination: usize,
): void {
  const panels = panelCount(outChannels);
  const panelBytes = <usize>inChannels * <usize>PANEL_WIDTH * FLOAT_SIZE;
  for (let panel = 0; panel < panels; panel++) {
    let from = packedWeights + <usize>panel * panelBytes; // [inChannels, 16]
    let to = destination + <usize>panel * panelBytes; // [inChannels, 16]
    let factor = scale; // [inChannels]
    const end = from + panelBytes;
    while (from < end) {
      const s = v128.load32_splat(factor);
      v128.store(to, f32x4.mul(v128.load(from), s));
      v128.store(to, f32x4.mul(v128.load(from, 16), s), 16);
      v128.store(to, f32x4.mul(v128.load(from, 32), s), 32);
      v128.store(to, f32x4.mul(v128.load(from, 48), s), 48);
      from += <usize>PANEL_WIDTH * FLOAT_SIZE;
      to += <usize>PANEL_WIDTH * FLOAT_SIZE;
      factor += FLOAT_SIZE;
    }
  }
}

/**
 * output[rows, outChannels] = act(input[rows, inChannels] · Wᵀ + bias), then + residual.
 * packedWeights comes from gemm_pack. bias ([outChannels]) and residual ([rows, outChannels])
 * may be 0 for none. input, output and residual must be distinct buffers.
 * activation: an ACTIVATION_* code (none, swish, ReLU6, ReLU), applied before the residual.
 */
export function gemm(
  input: usize, rows: i32, inChannels: i32, packedWeights: usize, bias: usize,
  outChannels: i32, output: usize, activation: i32, residual: usize,
): void {
  const inputRowBytes = <usize>inChannels * FLOAT_SIZE;
  const outputRowBytes = <usize>outChannels * FLOAT_SIZE;
  const panelBytes = <usize>inChannels * <usize>PANEL_WIDTH * FLOAT_SIZE;
  const panels = panelCount(outChannels);
  let kStart = 0;
  // At least one pass even when inChannels is 0, so the output still gets act(bias).
  do {
    const depth = min(K_BLOCK, inChannels - kStart);
    const continuing = kStart > 0;
    const finishing = kStart + depth >= inChannels;
    // Swish runs as a separate pass over each finished row block (below), which keeps the tile
    // lean; the tile adds the residual itself only when there is no activation to come first.
    const activating = finishing && activation != ACTIVATION_NONE;
    const tileResidual: usize = finishing && !activating ? residual : 0;
    for (let blockStart = 0; blockStart < rows; blockStart += ROW_BLOCK) {
      const blockEnd = min(rows, blockStart + ROW_BLOCK);
      const blockInput = input + <usize>blockStart * inputRowBytes + <usize>kStart * FLOAT_SIZE;
      const blockOutput = <usize>blockStart * outputRowBytes;
      for (let panel = 0; panel < panels; panel++) {
        const column = panel * PANEL_WIDTH;
        const columns = min(PANEL_WIDTH, outChannels - column);
        const columnOffset = <usize>column * FLOAT_SIZE;
        const weights = packedWeights + <usize>panel * panelBytes + <usize>kStart * <usize>PANEL_WIDTH * FLOAT_SIZE;
        const panelBias = bias != 0 ? bias + columnOffset : 0;
        // Pointers advance by whole tiles: cheaper than recomputing row * stride per tile.
        let a = blockInput;
        let c = output + blockOutput + columnOffset;
        let r = tileResidual != 0 ? tileResidual + blockOutput + columnOffset : 0;
        if (columns > HALF_PANEL_WIDTH) {
          const residualStep: usize = tileResidual != 0 ? <usize>TILE_ROWS * outputRowBytes : 0;
          for (let row = blockStart; row < blockEnd; row += TILE_ROWS) {
            tile(
              blockEnd - row, a, inputRowBytes, weights, depth, c, outputRowBytes, columns,
              panelBias, r, continuing,
            );
            a += <usize>TILE_ROWS * inputRowBytes;
            c += <usize>TILE_ROWS * outputRowBytes;
            r += residualStep;
          }
        } else {
          const residualStep: usize = tileResidual != 0 ? <usize>NARROW_TILE_ROWS * outputRowBytes : 0;
          for (let row = blockStart; row < blockEnd; row += NARROW_TILE_ROWS) {
            narrowTile(
              blockEnd - row, a, inputRowBytes, weights, depth, c, outputRowBytes, columns,
              panelBias, r, continuing,
            );
            a += <usize>NARROW_TILE_ROWS * inputRowBytes;
            c += <usize>NARROW_TILE_ROWS * outputRowBytes;
            r += residualStep;
          }
        }
      }
      if (activating) {
        const count = (blockEnd - blockStart) * outChannels;
        activate_in_place(output + blockOutput, count, activation);
        if (residual != 0) addInPlace(output + blockOutput, residual + blockOutput, count);
      }
    }
    kStart += depth;
  } while (kStart < inChannels);
}

/**
 * The microkernel: 2 rows (1 when rowCount is 1) x one panel (up to 16 columns), `depth` k steps.
 * Accumulators start from the output (continuing a K block), else from the bias, else 0.
 * residual0 (0 for none) is added before the store; the caller passes it only in the last K block.
 * With rowCount 1 the second row's pointers alias the first: it recomputes identical values
 * and stores them to the same place, which is cheaper than a second kernel.
 */
// Inlined into its one caller: the engine then sees where the pointers come from, drops a
// zero-extension per load and unrolls the k loop itself (measured 5-10% on large K).
// @ts-ignore: decorator
@inline function tile(
  rowCount: i32, a0: usize, aStride: usize, weights: usize, depth: i32,
  c0: usize, cStride: usize, columns: i32, bias: usize, residual0: usize, continuing: bool,
): void {
  let a1 = a0 + aStride, c1 = c0 + cStride, residual1 = residual0 != 0 ? residual0 + cStride : 0;
  if (rowCount < 2) { a1 = a0; c1 = c0; residual1 = residual0; }

  // acc{row}{quarter}: quarter q holds columns 4q .. 4q+3 of the panel.
  let acc00: v128, acc01: v128, acc02: v128, acc03: v128;
  let acc10: v128, acc11: v128, acc12: v128, acc13: v128;
  if (continuing) {
    acc00 = loadColumns(c0, columns); acc01 = loadColumns(c0 + 16, columns - 4);
    acc02 = loadColumns(c0 + 32, columns - 8); acc03 = loadColumns(c0 + 48, columns - 12);
    acc10 = loadColumns(c1, columns); acc11 = loadColumns(c1 + 16, columns - 4);
    acc12 = loadColumns(c1 + 32, columns - 8); acc13 = loadColumns(c1 + 48, columns - 12);
  } else if (bias != 0 && columns == PANEL_WIDTH) {
    acc00 = acc10 = v128.load(bias); acc01 = acc11 = v128.load(bias, 16);
    acc02 = acc12 = v128.load(bias, 32); acc03 = acc13 = v128.load(bias, 48);
  } else if (bias != 0) {
    acc00 = acc10 = loadColumns(bias, columns);
    acc01 = acc11 = loadColumns(bias + 16, columns - 4);
    acc02 = acc12 = loadColumns(bias + 32, columns - 8);
    acc03 = acc13 = loadColumns(bias + 48, columns - 12);
  } else {
    acc00 = acc01 = acc02 = acc03 = acc10 = acc11 = acc12 = acc13 = f32x4.splat(0);
  }

  // One k step per trip in the source; V8 unrolls this small loop itself. Unrolling by hand
  // backfires: Binaryen fuses an unrolled accumulator's updates into one expression, V8 then
  // hoists every load of the trip to its top, and the extra broadcasts and weight vectors no
  // longer fit in registers (measured: spills, 25% slower).
  let w = weights;
  const weightsEnd = weights + <usize>depth * <usize>PANEL_WIDTH * FLOAT_SIZE;
  while (w < weightsEnd) {
    const b0 = v128.load(w), b1 = v128.load(w, 16), b2 = v128.load(w, 32), b3 = v128.load(w, 48);
    let x = v128.load32_splat(a0);
    acc00 = madd(acc00, x, b0); acc01 = madd(acc01, x, b1); acc02 = madd(acc02, x, b2); acc03 = madd(acc03, x, b3);
    x = v128.load32_splat(a1);
    acc10 = madd(acc10, x, b0); acc11 = madd(acc11, x, b1); acc12 = madd(acc12, x, b2); acc13 = madd(acc13, x, b3);
    a0 += FLOAT_SIZE; a1 += FLOAT_SIZE;
    w += <usize>PANEL_WIDTH * FLOAT_SIZE;
  }

  // Second row first, so with aliased pointers the real row's store lands last (the values
  // are identical anyway; the order only keeps the writes easy to reason about).
  storeRow(acc10, acc11, acc12, acc13, c1, residual1, columns);
  storeRow(acc00, acc01, acc02, acc03, c0, residual0, columns);
}

/**
 * The microkernel for a last panel with at most 8 real columns (outChannels % 16 in 1..8): 4 rows
 * (fewer aliased, as in `tile`) x 8 columns, so no multiply-adds are spent on the panel's zero
 * half. Same accumulators, same order of operations per element as `tile`.
 */
// @ts-ignore: decorator
@inline function narrowTile(
  rowCount: i32, a0: usize, aStride: usize, weights: usize, depth: i32,
  c0: usize, cStride: usize, columns: i32, bias: usize, residual0: usize, continuing: bool,
): void {
  // Rows past rowCount alias the row before them.
  const a1 = rowCount > 1 ? a0 + aStride : a0, c1 = rowCount > 1 ? c0 + cStride : c0;
  const a2 = rowCount > 2 ? a1 + aStride : a1, c2 = rowCount > 2 ? c1 + cStride : c1;
  const a3 = rowCount > 3 ? a2 + aStride : a2, c3 = rowCount > 3 ? c2 + cStride : c2;
  const residualStride: usize = residual0 != 0 ? cStride : 0;
  const residual1 = rowCount > 1 ? residual0 + residualStride : residual0;
  const residual2 = rowCount > 2 ? residual1 + residualStride : residual1;
  const residual3 = rowCount > 3 ? residual2 + residualStride : residual2;

  // acc{row}{half}: half h holds columns 4h .. 4h+3 of the panel.
  let acc00: v128, acc01: v128, acc10: v128, acc11: v128;
  let acc20: v128, acc21: v128, acc30: v128, acc31: v128;
  if (continuing) {
    acc00 = loadColumns(c0, columns); acc01 = loadColumns(c0 + 16, columns - 4);
    acc10 = loadColumns(c1, columns); acc11 = loadColumns(c1 + 16, columns - 4);
    acc20 = loadColumns(c2, columns); acc21 = loadColumns(c2 + 16, columns - 4);
    acc30 = loadColumns(c3, columns); acc31 = loadColumns(c3 + 16, columns - 4);
  } else if (bias != 0) {
    acc00 = acc10 = acc20 = acc30 = loadColumns(bias, columns);
    acc01 = acc11 = acc21 = acc31 = loadColumns(bias + 16, columns - 4);
  } else {
    acc00 = acc01 = acc10 = acc11 = acc20 = acc21 = acc30 = acc31 = f32x4.splat(0);
  }

  let w = weights;
  const weightsEnd = weights + <usize>depth * <usize>PANEL_WIDTH * FLOAT_SIZE;
  let offset: usize = 0;
  while (w < weightsEnd) {
    const b0 = v128.load(w), b1 = v128.load(w, 16);
    let x = v128.load32_splat(a0 + offset);
    acc00 = madd(acc00, x, b0); acc01 = madd(acc01, x, b1);
    x = v128.load32_splat(a1 + offset);
    acc10 = madd(acc10, x, b0); acc11 = madd(acc11, x, b1);
    x = v128.load32_splat(a2 + offset);
    acc20 = madd(acc20, x, b0); acc21 = madd(acc21, x, b1);
    x = v128.load32_splat(a3 + offset);
    acc30 = madd(acc30, x, b0); acc31 = madd(acc31, x, b1);
    offset += FLOAT_SIZE;
    w += <usize>PANEL_WIDTH * FLOAT_SIZE;
  }

  // Last rows first, so with aliased pointers a real row's store lands last.
  storeHalfRow(acc30, acc31, c3, residual3, columns);
  storeHalfRow(acc20, acc21, c2, residual2, columns);
  storeHalfRow(acc10, acc11, c1, residual1, columns);
  storeHalfRow(acc00, acc01, c0, residual0, columns);
}

/** Stores one narrow-tile row (up to 8 columns as two vectors), adding the residual when given one. */
// @ts-ignore: decorator
@inline function storeHalfRow(q0: v128, q1: v128, c: usize, residual: usize, columns: i32): void {
  if (residual != 0) {
    q0 = f32x4.add(q0, loadColumns(residual, columns));
    q1 = f32x4.add(q1, loadColumns(residual + 16, columns - 4));
  }
  storeColumns(c, q0, columns);
  storeColumns(c + 16, q1, columns - 4);
}

/** Stores one tile row (16 columns as four vectors), adding the residual when given one. */
// @ts-ignore: decorator
@inline function storeRow(q0: v128, q1: v128, q2: v128, q3: v128, c: usize, residual: usize, columns: i32): void {
  if (residual != 0) {
    q0 = f32x4.add(q0, loadColumns(residual, columns));
    q1 = f32x4.add(q1, loadColumns(residual + 16, columns - 4));
    q2 = f32x4.add(q2, loadColumns(residual + 32, columns - 8));
    q3 = f32x4.add(q3, loadColumns(residual + 48, columns - 12));
  }
  // Full panels skip the per-vector tail checks (about 5% fewer instructions at small K).
  if (columns == PANEL_WIDTH) {
    v128.store(c, q0); v128.store(c, q1, 16); v128.store(c, q2, 32); v128.store(c, q3, 48);
  } else {
    storeColumns(c, q0, columns);
    storeColumns(c + 16, q1, columns - 4);
    storeColumns(c + 32, q2, columns - 8);
    storeColumns(c + 48, q3, columns - 12);
  }
}

/** Loads min(count, 4) floats into the low lanes (others 0) without touching memory past them. */
// @ts-ignore: decorator
@inline function loadColumns(pointer: usize, count: i32): v128 {
  if (count >= 4) return v128.load(pointer);
  if (count == 3) return v128.load32_lane(pointer, v128.load64_zero(pointer), 2, 8);
  if (count == 2) return v128.load64_zero(pointer);
  if (count == 1) return v128.load32_zero(pointer);
  return f32x4.splat(0);
}

/** Stores the low min(count, 4) lanes of value; nothing when count <= 0. */
// @ts-ignore: decorator
@inline function storeColumns(pointer: usize, value: v128, count: i32): void {
  if (count >= 4) {
    v128.store(pointer, value);
  } else if (count == 3) {
    v128.store64_lane(pointer, value, 0);
    v128.store32_lane(pointer, value, 2, 8);
  } else if (count == 2) {
    v128.store64_lane(pointer, value, 0);
  } else if (count == 1) {
    v128.store32_lane(pointer, value, 0);
  }
}

// @ts-ignore: decorator
@inline function panelCount(outChannels: i32): i32 {
  return (outChannels + PANEL_WIDTH - 1) / PANEL_WIDTH;
}

/** The probe's operands, read from memory so the compiler can neither fold the multiplies away
 *  nor rebuild constants inside the loop: two factors of 1 (the relaxed build uses the first),
 *  then the default build's three multiplicands. Whole aligned vectors, so this segment ends on
 *  a 16-byte boundary. */
const PROBE_FACTOR = memory.data<f32>([
  1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
  0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75,
], 16);

/** Scalar multiply-adds in one simd_peak_probe iteration: 24 in the default build (6 f32x4.mul +
 *  6 f32x4.add), 48 in the relaxed build (12 f32x4.relaxed_madd). */
export const PEAK_PROBE_MULTIPLY_ADDS: i32 = ASC_FEATURE_RELAXED_SIMD ? 48 : 24;

/**
 * Register-bound throughput probe for the machine's ceiling on this build's multiply-add;
 * returns a sum of the chains so no work is dead.
 * Default build: six accumulators each add a product per trip (s += k * f), as the GEMM's do.
 * The two factors f are loaded from memory every trip (so the engine cannot move the multiplies
 * out of the loop) and the three k stay in registers, so the six multiplies are independent of
 * one another and of the trip before: only the adds form chains, six of them, which is more than
 * two add pipes need to cover a 2-3 cycle latency. (Six chains of m *= 1 instead, with no other
 * slack, measured a quarter below this on a Zen 5 host: they need a multiply to issue on both
 * pipes every cycle, and any slip is lost for good.)
 * Relaxed build: twelve independent fused multiply-add chains (s = s * 1 + 1), enough to keep
 * two FMA pipes busy through a 4-5 cycle latency.
 */
export function simd_peak_probe(iterations: i32): f32 {
  const factors = changetype<usize>(PROBE_FACTOR);
  if (ASC_FEATURE_RELAXED_SIMD) {
    const factor = v128.load(factors);
    let m0 = f32x4.splat(1.0), m1 = f32x4.splat(1.25), m2 = f32x4.splat(1.5);
    let m3 = f32x4.splat(1.75), m4 = f32x4.splat(2.0), m5 = f32x4.splat(2.25);
    let s0 = f32x4.splat(0.0), s1 = f32x4.splat(0.5), s2 = f32x4.splat(1.0);
    let s3 = f32x4.splat(1.5), s4 = f32x4.splat(2.0), s5 = f32x4.splat(2.5);
    // m_i and s_i are all accumulators here; the addend is the factor too, so values grow by 1 a trip.
    for (let i = 0; i < iterations; i++) {
      s0 = f32x4.relaxed_madd(s0, factor, factor); m0 = f32x4.relaxed_madd(m0, factor, factor);
      s1 = f32x4.relaxed_madd(s1, factor, factor); m1 = f32x4.relaxed_madd(m1, factor, factor);
      s2 = f32x4.relaxed_madd(s2, factor, factor); m2 = f32x4.relaxed_madd(m2, factor, factor);
      s3 = f32x4.relaxed_madd(s3, factor, factor); m3 = f32x4.relaxed_madd(m3, factor, factor);
      s4 = f32x4.relaxed_madd(s4, factor, factor); m4 = f32x4.relaxed_madd(m4, factor, factor);
      s5 = f32x4.relaxed_madd(s5, factor, factor); m5 = f32x4.relaxed_madd(m5, factor, factor);
    }
    const sum = f32x4.add(
      f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(s4, s5)),
      f32x4.add(f32x4.add(f32x4.add(m0, m1), f32x4.add(m2, m3)), f32x4.add(m4, m5)),
    );
    return f32x4.extract_lane(sum, 0);
  }
  const k0 = v128.load(factors, 32), k1 = v128.load(factors, 48), k2 = v128.load(factors, 64);
  let s0 = f32x4.splat(0.0), s1 = f32x4.splat(0.5), s2 = f32x4.splat(1.0);
  let s3 = f32x4.splat(1.5), s4 = f32x4.splat(2.0), s5 = f32x4.splat(2.5);
  for (let i = 0; i < iterations; i++) {
    const f0 = v128.load(factors), f1 = v128.load(factors, 16);
    s0 = f32x4.add(s0, f32x4.mul(k0, f0)); s1 = f32x4.add(s1, f32x4.mul(k1, f0)); s2 = f32x4.add(s2, f32x4.mul(k2, f0));
    s3 = f32x4.add(s3, f32x4.mul(k0, f1)); s4 = f32x4.add(s4, f32x4.mul(k1, f1)); s5 = f32x4.add(s5, f32x4.mul(k2, f1));
  }
  const sum = f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(s4, s5));
  return f32x4.extract_lane(sum, 0);
}
