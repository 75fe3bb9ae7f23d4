/**
 * Shared helpers for the image tests: byte comparisons, seeded random images, the Pillow goldens
 * made by scripts/make-preprocess-fixtures.py, and JPEGs made here (mozjpeg's encoder) with an
 * EXIF orientation spliced in.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import type { RgbImage } from '../../src/image/decode.js';
import type { PreprocessRecipe } from '../../src/image/recipe.js';
import { mulberry32 } from '../support/random.js';

export const ROOT = new URL('../../', import.meta.url);
export const readRepoFile = (path: string): Uint8Array => new Uint8Array(readFileSync(new URL(path, ROOT)));

/** Largest |a[i] - b[i]|, and how many elements differ at all. */
export function byteDifference(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; differing: number } {
  expect(a.length).toBe(b.length);
  let max = 0;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > 0) differing++;
    if (d > max) max = d;
  }
  return { max, differing };
}

/** Asserts identical bytes; a failure names the first difference. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const first = actual.findIndex((v, i) => v !== expected[i]);
  const detail = first < 0 ? '' : `byte ${first}: got ${actual[first]}, expected ${expected[first]}`;
  expect(detail, label).toBe('');
}

/**
 * A seeded RGB image: smooth gradients plus noise and a few hard edges, so resampling sees both
 * flat areas and full-range jumps (where bicubic overshoots and the clamp to [0, 255] matters).
 */
export function randomImage(width: number, height: number, seed: number): RgbImage {
  const rng = mulberry32(seed);
  const data = new Uint8Array(width * height * 3); // [height, width, 3]
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const edge = (x * 7 + y * 3 + c) % 11 === 0 ? 255 : 0;
        const smooth = (x * 255) / Math.max(1, width - 1);
        data[(y * width + x) * 3 + c] = rng() < 0.2 ? edge : Math.min(255, Math.max(0, Math.round(smooth + (rng() - 0.5) * 60)));
      }
    }
  }
  return { data, width, height };
}

/** One golden: a photo, a recipe, and what Pillow made of it (see test/fixtures/preprocess/manifest.json). */
export interface GoldenCase {
  readonly image: string;
  readonly preset: string | null;
  readonly recipe: PreprocessRecipe;
  readonly source: { width: number; height: number };
  readonly decodedSha256: string;
  readonly resize: { width: number; height: number };
  readonly crop: { top: number; left: number };
  readonly golden: string;
}

export const FIXTURES = 'test/fixtures/preprocess/';

/** One plain Pillow resize of a small noise image (see the generator's SYNTHETIC table). */
export interface GoldenResize {
  readonly source: string;
  readonly width: number;
  readonly height: number;
  readonly outWidth: number;
  readonly outHeight: number;
  readonly interpolation: 'bicubic' | 'bilinear';
  readonly golden: string;
}

interface Manifest {
  readonly cases: GoldenCase[];
  readonly resizes: GoldenResize[];
}

const manifest = (): Manifest => JSON.parse(new TextDecoder().decode(readRepoFile(`${FIXTURES}manifest.json`))) as Manifest;

export const goldenCases = (): GoldenCase[] => manifest().cases;
export const goldenResizes = (): GoldenResize[] => manifest().resizes;

let jpegEncoder: Promise<(image: ImageData, options: { quality: number }) => Promise<ArrayBuffer>> | undefined;

/** Encodes RGB pixels as a baseline JPEG with mozjpeg (the @jsquash encoder, loaded from node_modules). */
export async function encodeJpeg(image: RgbImage, quality = 95): Promise<Uint8Array> {
  jpegEncoder ??= (async () => {
    const encoder = await import('@jsquash/jpeg/encode.js');
    const wasm = readFileSync(createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm'));
    // The published typings of init() lag its code, which accepts a compiled module.
    await (encoder.init as (module: WebAssembly.Module) => Promise<void>)(await WebAssembly.compile(wasm));
    return encoder.default as (image: ImageData, options: { quality: number }) => Promise<ArrayBuffer>;
  })();
  const rgba = new Uint8ClampedArray(image.width * image.height * 4).fill(255); // [height, width, 4]
  for (let p = 0; p < image.width * image.height; p++) rgba.set(image.data.subarray(p * 3, p * 3 + 3), p * 4);
  const encode = await jpegEncoder;
  return new Uint8Array(await encode({ data: rgba, width: image.width, height: image.height, colorSpace: 'srgb' } as ImageData, { quality }));
}

/** `jpeg` with an APP1 Exif segment holding only IFD0's Orientation tag, inserted after SOI. */
export function withExifOrientation(jpeg: Uint8Array, orientation: number, littleEndian = false): Uint8Array {
  const tiff = new Uint8Array(26);
  const view = new DataView(tiff.buffer);
  tiff.set(littleEndian ? [0x49, 0x49] : [0x4d, 0x4d]);
  view.setUint16(2, 42, littleEndian);
  view.setUint32(4, 8, littleEndian); // IFD0 right after the header
  view.setUint16(8, 1, littleEndian); // one entry
  view.setUint16(10, 0x0112, littleEndian); // Orientation
  view.setUint16(12, 3, littleEndian); // SHORT
  view.setUint32(14, 1, littleEndian); // one value
  view.setUint16(18, orientation, littleEndian);
  return withApp1(jpeg, new Uint8Array([0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff])); // "Exif\0\0" + TIFF
}

/** `jpeg` with an APP1 segment of `payload` inserted after SOI. */
export function withApp1(jpeg: Uint8Array, payload: Uint8Array): Uint8Array {
  const length = payload.length + 2;
  return new Uint8Array([0xff, 0xd8, 0xff, 0xe1, length >> 8, length & 0xff, ...payload, ...jpeg.subarray(2)]);
}
