/**
 * A folder of ordinary photos for the dataset bench: the bundled photos resized and cut to sizes
 * from 300 to 1,000 pixels a side (not square), three JPEGs (quality 85) to one PNG, encoded with
 * the @jsquash encoders. Made once per directory and reused.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { decodeImage, type RgbImage } from '../src/image/decode.js';
import { createPreprocessor } from '../src/image/preprocess.js';
import { preprocessRecipe } from '../src/image/recipe.js';

const require = createRequire(import.meta.url);
const BUNDLED = ['chelsea.png', 'grace_hopper.jpg', 'panda.jpg'].map((name) => new URL(`../../data/images/${name}`, import.meta.url));

/** RGB `[h, w, 3]` to RGBA `[h, w, 4]`, as the encoders take it. */
function rgba(image: RgbImage): ImageData {
  const out = new Uint8ClampedArray(image.width * image.height * 4); // [h, w, 4]
  for (let p = 0; p < image.width * image.height; p++) {
    out.set(image.data.subarray(p * 3, p * 3 + 3), p * 4);
    out[p * 4 + 3] = 255;
  }
  // The encoders read only data, width and height of their ImageData argument.
  return { data: out, width: image.width, height: image.height, colorSpace: 'srgb' } as ImageData;
}

/** Rows `[top, top + height)` and columns `[left, left + width)` of an image: a byte copy. */
function cut(image: RgbImage, width: number, height: number): RgbImage {
  const left = (image.width - width) >> 1;
  const top = (image.height - height) >> 1;
  const data = new Uint8Array(width * height * 3); // [height, width, 3]
  for (let y = 0; y < height; y++) data.set(image.data.subarray(((top + y) * image.width + left) * 3, ((top + y) * image.width + left + width) * 3), y * width * 3);
  return { data, width, height };
}

export async function benchPhotos(dir: string, count: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const names = Array.from({ length: count }, (_, i) => `${String(i).padStart(5, '0')}.${i % 4 === 3 ? 'png' : 'jpg'}`);
  if (names.every((name) => existsSync(join(dir, name)))) return names.map((name) => join(dir, name));
  const jpeg = await import('@jsquash/jpeg/encode.js');
  const png = await import('@jsquash/png/encode.js');
  await jpeg.init(await WebAssembly.compile(readFileSync(require.resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm'))));
  await png.init(await WebAssembly.compile(readFileSync(require.resolve('@jsquash/png/codec/pkg/squoosh_png_bg.wasm'))));
  const sources = await Promise.all(BUNDLED.map(async (url) => decodeImage(new Uint8Array(readFileSync(url)))));
  const preprocessor = await createPreprocessor();
  for (const [i, name] of names.entries()) {
    const path = join(dir, name);
    if (existsSync(path)) continue;
    // A square of side 300-1000 (resized in the core), then a centred cut of the other side to 300-side px.
    const side = 300 + ((i * 389) % 701);
    const square = preprocessor.resizeAndCrop(sources[i % 3], preprocessRecipe({ size: side, cropPct: 1, interpolation: 'bilinear' }));
    const other = 300 + ((i * 211) % (side - 299));
    const photo = i % 2 === 0 ? cut(square, side, other) : cut(square, other, side);
    const bytes = name.endsWith('.png') ? await png.default(rgba(photo)) : await jpeg.default(rgba(photo), { quality: 85 });
    writeFileSync(path, new Uint8Array(bytes));
  }
  return readdirSync(dir).filter((n) => names.includes(n)).sort().map((n) => join(dir, n));
}
