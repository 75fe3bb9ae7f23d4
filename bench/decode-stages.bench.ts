/**
 * Where a decode worker's CPU goes for one photo: mozjpeg, dropping alpha, each kernel of the
 * preprocessing (horizontal pass from RGB and from RGBA pixels, vertical pass, normalising), and
 * the whole path both ways: `decodeImage` (RGB) then `preprocessInto`, as the library's own
 * classify does, against `decodePixels` (the decoder's RGBA) then `preprocessInto`, as the decode
 * worker does. Timed interleaved in one process (medians of pooled samples).
 *
 *   npm run bench:build && node dist-bench/bench/decode-stages.bench.js [photo.jpg ...]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename } from 'node:path';
import { bundledCodecs } from '../src/image/codecs.js';
import { decodeImage, decodePixels, type PixelData } from '../src/image/decode.js';
import { createPreprocessor, resampleFilterCode, type ResizeKernels } from '../src/image/preprocess.js';
import { planResize, preprocessRecipe } from '../src/image/recipe.js';
import { instantiateCore } from '../src/runtime/wasm.js';
import { interleave, machineLine } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 40);
const photos = process.argv.length > 2 ? process.argv.slice(2) : ['grace_hopper.jpg', 'panda.jpg'].map((name) => new URL(`../../data/images/${name}`, import.meta.url).pathname);
// EfficientNet-B0's eval transform in timm: short side to 256, bicubic, centre crop 224.
const recipe = preprocessRecipe({ size: 224, cropPct: 0.875, interpolation: 'bicubic' });

const codecs = await bundledCodecs();
const preprocessor = await createPreprocessor();
const kernels = (await instantiateCore()) as unknown as ResizeKernels;
const tensor = new Float32Array(3 * recipe.size * recipe.size); // [3, size, size]

/** A bump allocation in the kernels' own memory, 16-byte aligned, growing it as needed. */
let top = Math.ceil(Number(kernels.heap_base()) / 16) * 16;
function alloc(bytes: number): number {
  const offset = top;
  top = Math.ceil((offset + bytes) / 16) * 16;
  const short = top - kernels.memory.buffer.byteLength;
  if (short > 0) kernels.memory.grow(Math.ceil(short / 65536));
  return offset;
}

/** The preprocessor's calls for one image, laid out once so each kernel can be timed alone. */
function kernelStages(rgba: PixelData): { horizontal: (pixelBytes: 3 | 4) => void; vertical: () => void; normalise: () => void } {
  const { width, height } = rgba;
  const plan = planResize(width, height, recipe);
  const filter = resampleFilterCode(kernels, recipe.interpolation);
  const { size } = plan;
  const table = (inSize: number, outSize: number, first: number) => {
    const taps = kernels.resample_taps(inSize, outSize, filter);
    const bounds = alloc(size * 8); // [size, 2] i32
    const weights = alloc(size * taps * 4); // [size, taps] i32
    kernels.resample_coefficients(inSize, outSize, first, size, filter, bounds, weights);
    return { taps, bounds, weights };
  };
  const columns = table(width, plan.resizeWidth, plan.cropLeft);
  const rows = table(height, plan.resizeHeight, plan.cropTop);
  const rowBounds = new Int32Array(kernels.memory.buffer, rows.bounds, size * 2); // [size, 2]
  const firstRow = rowBounds[0];
  const bandRows = rowBounds[(size - 1) * 2] + rowBounds[(size - 1) * 2 + 1] - firstRow;
  const rgbaBand = alloc(bandRows * width * 4); // [bandRows, width, 4] u8
  const rgbBand = alloc(bandRows * width * 3 + 4); // [bandRows, width, 3] u8, then the 4 bytes the pass may read past it
  const horizontal = alloc(bandRows * size * 3); // [bandRows, size, 3] u8
  const crop = alloc(size * size * 3); // [size, size, 3] u8
  const mean = alloc(12); // [3] f32
  const std = alloc(12); // [3] f32
  const output = alloc(size * size * 12); // [3, size, size] f32
  const memory = new Uint8Array(kernels.memory.buffer);
  const band = rgba.data.subarray(firstRow * width * 4, (firstRow + bandRows) * width * 4);
  memory.set(band, rgbaBand);
  for (let p = 0; p < bandRows * width; p++) memory.set(band.subarray(p * 4, p * 4 + 3), rgbBand + p * 3);
  new Float32Array(kernels.memory.buffer, mean, 3).set(recipe.mean);
  new Float32Array(kernels.memory.buffer, std, 3).set(recipe.std);
  return {
    horizontal: (pixelBytes) => kernels.resample_horizontal_rgb8(pixelBytes === 4 ? rgbaBand : rgbBand, pixelBytes, bandRows, width, size, columns.taps, columns.bounds, columns.weights, horizontal),
    vertical: () => kernels.resample_vertical_rgb8(horizontal, firstRow, size, size, rows.taps, rows.bounds, rows.weights, crop),
    normalise: () => kernels.rgb8_normalize_to_nchw(crop, size, size, mean, std, output),
  };
}

console.log(`decode stages, B0 recipe (short side 256, bicubic, crop 224), ${ROUNDS} rounds x ${ITERATIONS} iterations, interleaved`);
for (const path of photos) {
  const bytes = new Uint8Array(readFileSync(path));
  const rgba = await codecs.decodeJpeg(bytes);
  const rgb = await decodeImage(rgba);
  const stages = kernelStages(rgba);
  const contenders = [
    { name: 'mozjpeg decode (RGBA)', run: () => codecs.decodeJpeg(bytes) },
    { name: 'drop alpha (RGBA -> RGB)', run: () => decodeImage(rgba) },
    { name: 'horizontal pass from RGB', run: () => stages.horizontal(3) },
    { name: 'horizontal pass from RGBA', run: () => stages.horizontal(4) },
    { name: 'vertical pass', run: stages.vertical },
    { name: 'normalise', run: stages.normalise },
    { name: 'preprocessInto from RGB', run: () => preprocessor.preprocessInto(rgb, recipe, tensor) },
    { name: 'preprocessInto from RGBA', run: () => preprocessor.preprocessInto(rgba, recipe, tensor) },
    { name: 'decodeImage + preprocessInto', run: async () => preprocessor.preprocessInto(await decodeImage(bytes, { applyOrientation: false }), recipe, tensor) },
    { name: 'decodePixels + preprocessInto', run: async () => preprocessor.preprocessInto(await decodePixels(bytes, { applyOrientation: false }), recipe, tensor) },
  ];
  // Past V8's tier-up from its baseline WebAssembly compiler before anything is timed.
  for (const c of contenders) for (let i = 0; i < 20; i++) await c.run();
  const before = loadavg()[0];
  const results = await interleave(contenders, ROUNDS, ITERATIONS);
  console.log(`\n${basename(path)} (${bytes.length} bytes, ${rgba.width}x${rgba.height}); load average ${before.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`);
  for (const r of results) console.log(`  ${r.name.padEnd(32)} ${r.medianMs.toFixed(3)} ms (${r.samples} samples)`);
}
console.log(`\n${machineLine()}`);
