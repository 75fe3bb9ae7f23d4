/**
 * Mutation fuzzing of image decoding: damaged tiny PNGs (every colour type and bit depth,
 * interlaced, palettes with transparency) and JPEGs (progressive, baseline, greyscale, 4:4:4, odd
 * sizes, with EXIF) must decode into a consistent image or be refused with a typed error. After
 * every refusal the untouched seed must still decode to the same bytes: a codec instance left
 * broken by a failed decode would otherwise refuse everything after it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, type RgbImage } from '../../src/image/decode.js';
import { concat, fuzz, INTERESTING_U32, summarize, type ByteRange, type Mutator } from '../support/mutate.js';
import { randomImage, withExifOrientation } from '../image/support.js';

const CASES_PER_FORMAT = 10_000;

/**
 * Refuse images above 64k pixels: a damaged size field otherwise makes the codecs decode up to
 * the default 100 megapixels of garbage per case. The limit is checked from the header, so the
 * decoders still see every damaged file that declares a small enough image.
 */
const MAX_PIXELS = 1 << 16;

// ---------------------------------------------------------------------------------------------
// PNG seeds, built here so every colour type, bit depth and interlacing is covered.

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length); // [length, type, data, CRC]
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(ascii(type), 4);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

/** Channels per colour type: grey, -, RGB, palette, grey+alpha, -, RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

interface PngSpec {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
  readonly interlaced?: boolean;
  /** Extra chunks placed before the image data, e.g. gAMA or tEXt. */
  readonly extra?: readonly Uint8Array[];
}

/** A PNG of seeded pixel bytes with every row filter type in turn; palettes cover every index. */
function buildPng(spec: PngSpec, seed: number): Uint8Array {
  const { width, height, bitDepth, colorType } = spec;
  const bitsPerPixel = CHANNELS[colorType] * bitDepth;
  const passes = spec.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  const rows: number[] = [];
  let state = seed;
  let row = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const passWidth = Math.ceil((width - x0) / dx);
    const passHeight = Math.ceil((height - y0) / dy);
    if (passWidth <= 0 || passHeight <= 0) continue;
    for (let y = 0; y < passHeight; y++, row++) {
      rows.push(row % 5); // filter types 0..4
      for (let i = 0; i < Math.ceil((passWidth * bitsPerPixel) / 8); i++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        rows.push(state >>> 24);
      }
    }
  }
  const header = new Uint8Array(13); // [width, height, depth, colour type, compression, filter, interlace]
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([bitDepth, colorType, 0, 0, spec.interlaced ? 1 : 0], 8);
  const chunks = [pngChunk('IHDR', header), ...(spec.extra ?? [])];
  if (colorType === 3) {
    const entries = 1 << bitDepth;
    chunks.push(pngChunk('PLTE', Uint8Array.from({ length: entries * 3 }, (_, i) => (i * 47) & 0xff)));
    chunks.push(pngChunk('tRNS', Uint8Array.from({ length: Math.min(entries, 5) }, (_, i) => i * 60)));
  }
  const compressed = deflateSync(Uint8Array.from(rows));
  const half = compressed.length >> 1; // two IDAT chunks, as streaming encoders write them
  chunks.push(pngChunk('IDAT', compressed.subarray(0, half)), pngChunk('IDAT', compressed.subarray(half)), pngChunk('IEND', new Uint8Array(0)));
  return concat(PNG_SIGNATURE, ...chunks);
}

function pngSeeds(): Uint8Array[] {
  const gamma = pngChunk('gAMA', Uint8Array.of(0, 0, 0xb1, 0x8f));
  const text = pngChunk('tEXt', ascii('Comment\0fuzz seed'));
  const specs: PngSpec[] = [
    { width: 9, height: 7, bitDepth: 1, colorType: 0 },
    { width: 9, height: 7, bitDepth: 8, colorType: 0, interlaced: true },
    { width: 5, height: 3, bitDepth: 16, colorType: 0, extra: [gamma] },
    { width: 5, height: 3, bitDepth: 8, colorType: 2, extra: [text] },
    { width: 6, height: 5, bitDepth: 16, colorType: 2, interlaced: true },
    { width: 7, height: 3, bitDepth: 4, colorType: 3 },
    { width: 5, height: 5, bitDepth: 8, colorType: 3, interlaced: true },
    { width: 4, height: 4, bitDepth: 8, colorType: 4 },
    { width: 5, height: 3, bitDepth: 8, colorType: 6 },
    { width: 3, height: 3, bitDepth: 16, colorType: 6 },
    { width: 1, height: 1, bitDepth: 2, colorType: 0 },
  ];
  return specs.map((spec, i) => buildPng(spec, i + 1));
}

interface PngChunkRange extends ByteRange {
  readonly type: string;
}

/** The chunks of a PNG, as far as their length fields can be followed. */
function pngChunks(png: Uint8Array): PngChunkRange[] {
  const chunks: PngChunkRange[] = [];
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 12 <= png.length;) {
    const end = at + 12 + view.getUint32(at);
    if (end > png.length) break;
    chunks.push({ begin: at, end, type: String.fromCharCode(...png.subarray(at + 4, at + 8)) });
    at = end;
  }
  return chunks;
}

/** Recomputes every chunk CRC, so damage inside a chunk reaches the decoder instead of the CRC check. */
function fixPngCrcs(png: Uint8Array): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (const chunk of pngChunks(png)) view.setUint32(chunk.end - 4, crc32(png.subarray(chunk.begin + 4, chunk.end - 4)));
  return png;
}

function mutatePng(mutator: Mutator, seeds: readonly Uint8Array[]): Uint8Array {
  const seed = mutator.pick(seeds);
  const chunks = pngChunks(seed);
  switch (mutator.int(4)) {
    case 0:
      return mutator.mutateBytes(seed, { donors: seeds });
    case 1: {
      // Inside one chunk, IHDR half the time: sizes, bit depth, colour type, interlace method.
      const chunk = mutator.chance(0.5) ? chunks[0] : mutator.pick(chunks);
      const mutated = mutator.mutateBytes(seed, { focus: { begin: chunk.begin, end: chunk.end - 4 }, maxEdits: 3 });
      return mutator.chance(0.7) ? fixPngCrcs(mutated) : mutated;
    }
    case 2: {
      // The filtered pixel rows, recompressed: reaches the unfiltering and de-interlacing code.
      const idat = chunks.filter((chunk) => chunk.type === 'IDAT');
      const raw = inflateSync(concat(...idat.map((chunk) => seed.subarray(chunk.begin + 8, chunk.end - 4))));
      const data = pngChunk('IDAT', deflateSync(mutator.mutateBytes(new Uint8Array(raw), { maxEdits: 3 })));
      return concat(seed.subarray(0, idat[0].begin), data, seed.subarray(idat[idat.length - 1].end));
    }
    default: {
      // Whole chunks: one dropped, repeated or moved (IHDR twice, IEND missing, PLTE after IDAT).
      const parts = chunks.map((chunk) => seed.subarray(chunk.begin, chunk.end));
      const i = mutator.int(parts.length);
      const j = mutator.int(parts.length);
      const choice = mutator.int(3);
      if (choice === 0) parts.splice(i, 1);
      else if (choice === 1) parts.splice(j, 0, parts[i]);
      else [parts[i], parts[j]] = [parts[j], parts[i]];
      return concat(PNG_SIGNATURE, ...parts);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// JPEG seeds, encoded by mozjpeg with the options that change the decoder's path.

type JpegEncode = (image: ImageData, options: Record<string, unknown>) => Promise<ArrayBuffer>;

async function loadJpegEncoder(): Promise<JpegEncode> {
  const encoder = await import('@jsquash/jpeg/encode.js');
  const wasm = readFileSync(createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm'));
  // The published typings of init() lag its code, which accepts a compiled module.
  await (encoder.init as (module: WebAssembly.Module) => Promise<void>)(await WebAssembly.compile(wasm));
  return encoder.default as unknown as JpegEncode;
}

async function jpegSeeds(): Promise<Uint8Array[]> {
  const encode = await loadJpegEncoder();
  const make = async (image: RgbImage, options: Record<string, unknown>): Promise<Uint8Array> => {
    const rgba = new Uint8ClampedArray(image.width * image.height * 4).fill(255); // [height, width, 4]
    for (let p = 0; p < image.width * image.height; p++) rgba.set(image.data.subarray(p * 3, p * 3 + 3), p * 4);
    const imageData = { data: rgba, width: image.width, height: image.height, colorSpace: 'srgb' } as ImageData;
    return new Uint8Array(await encode(imageData, { quality: 90, ...options }));
  };
  const baseline = await make(randomImage(9, 7, 2), { baseline: true, progressive: false });
  return [
    await make(randomImage(16, 16, 1), {}), // progressive 4:2:0, mozjpeg's default
    baseline,
    await make(randomImage(13, 11, 3), { optimize_coding: false }), // odd sides: partial chroma blocks, standard tables
    await make(randomImage(10, 6, 4), { color_space: 1 }), // greyscale
    await make(randomImage(7, 5, 5), { auto_subsample: false, chroma_subsample: 1, baseline: true, progressive: false }), // 4:4:4
    withExifOrientation(baseline, 6),
    withExifOrientation(await make(randomImage(5, 9, 6), {}), 8, true),
  ];
}

interface JpegSegment extends ByteRange {
  readonly marker: number;
}

/** The marker segments up to the first scan, and the scan data after it as marker 0. */
function jpegSegments(jpeg: Uint8Array): JpegSegment[] {
  const segments: JpegSegment[] = [];
  for (let at = 2; at + 4 <= jpeg.length && jpeg[at] === 0xff;) {
    const end = at + 2 + ((jpeg[at + 2] << 8) | jpeg[at + 3]);
    segments.push({ begin: at, end, marker: jpeg[at + 1] });
    if (jpeg[at + 1] === 0xda) {
      segments.push({ begin: end, end: jpeg.length - 2, marker: 0 });
      break;
    }
    at = end;
  }
  return segments;
}

function mutateJpeg(mutator: Mutator, seeds: readonly Uint8Array[]): Uint8Array {
  const seed = mutator.pick(seeds);
  const segments = jpegSegments(seed);
  switch (mutator.int(4)) {
    case 0:
      return mutator.mutateBytes(seed, { donors: seeds });
    case 1: {
      // Inside one header segment: frame size and components (SOF), tables (DHT, DQT), EXIF (APP1).
      const headers = segments.filter((segment) => segment.marker !== 0);
      const frame = headers.find((segment) => segment.marker >= 0xc0 && segment.marker <= 0xc2);
      const segment = frame !== undefined && mutator.chance(0.3) ? frame : mutator.pick(headers);
      return mutator.mutateBytes(seed, { focus: segment, maxEdits: 3 });
    }
    case 2: {
      const scan = segments[segments.length - 1];
      return mutator.mutateBytes(seed, { focus: scan, maxEdits: 3 });
    }
    default: {
      // Whole segments: one dropped or repeated, or its length field set to an edge value.
      const segment = mutator.pick(segments.filter((s) => s.marker !== 0));
      const choice = mutator.int(3);
      if (choice === 0) return concat(seed.subarray(0, segment.begin), seed.subarray(segment.end));
      if (choice === 1) return concat(seed.subarray(0, segment.end), seed.subarray(segment.begin, segment.end), seed.subarray(segment.end));
      const mutated = seed.slice();
      const length = mutator.pick(INTERESTING_U32) & 0xffff;
      mutated.set([length >> 8, length & 0xff], segment.begin + 2);
      return mutated;
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** A decoded image must be RGB of the size it claims, within the pixel limit. */
function checkDecoded(image: RgbImage): void {
  expect(Number.isInteger(image.width) && image.width > 0 && Number.isInteger(image.height) && image.height > 0).toBe(true);
  expect(image.width * image.height).toBeLessThanOrEqual(MAX_PIXELS);
  expect(image.data.length).toBe(image.width * image.height * 3);
}

/** What WebAssembly traps, Emscripten aborts and JS engine errors say. */
const ENGINE_FAILURE = /memory access out of bounds|unreachable|Aborted\(|out of memory|is not a constructor|is not a function|Maximum call stack/i;

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((value, i) => value === b[i]);

/** Fuzzes one format and checks after every refusal that an untouched seed still decodes to the same bytes. */
async function fuzzFormat(name: string, seed: number, seeds: readonly Uint8Array[], mutate: (mutator: Mutator, seeds: readonly Uint8Array[]) => Uint8Array) {
  const pristine = seeds[0];
  const expected = await decodeImage(pristine);
  return fuzz({
    name,
    seed,
    cases: CASES_PER_FORMAT,
    generate: (mutator) => mutate(mutator, seeds),
    run: (bytes) => decodeImage(bytes, { maxPixels: MAX_PIXELS }),
    checkValid: checkDecoded,
    afterRefusal: async (_bytes, error) => {
      // Engine trap text inside a refusal means a decoder crashed rather than refused the file.
      if (ENGINE_FAILURE.test(error.message)) throw new Error(`a decoder crashed: ${error.message}`);
      const again = await decodeImage(pristine);
      if (!bytesEqual(again.data, expected.data)) throw new Error('an untouched seed decodes to different bytes after the refusal');
    },
  });
}

describe('fuzzing image decoding', () => {
  let pngs: Uint8Array[];
  let jpegs: Uint8Array[];
  beforeAll(async () => {
    pngs = pngSeeds();
    jpegs = await jpegSeeds();
  });

  it('starts from seeds that all decode', async () => {
    for (const seed of [...pngs, ...jpegs]) checkDecoded(await decodeImage(seed));
  });

  it(`refuses or cleanly decodes ${CASES_PER_FORMAT} damaged PNGs, and the codec keeps working`, async () => {
    const report = await fuzzFormat('png', 20260703, pngs, mutatePng);
    console.log(summarize(report));
    expect(report.failures).toEqual([]);
    expect(report.valid).toBeGreaterThan(CASES_PER_FORMAT / 100);
    expect(report.refused.get('ImageDecodeError') ?? 0).toBeGreaterThan(CASES_PER_FORMAT / 4);
  });

  it(`refuses or cleanly decodes ${CASES_PER_FORMAT} damaged JPEGs, and the codec keeps working`, async () => {
    const report = await fuzzFormat('jpeg', 20260704, jpegs, mutateJpeg);
    console.log(summarize(report));
    expect(report.failures).toEqual([]);
    expect(report.valid).toBeGreaterThan(CASES_PER_FORMAT / 100);
    expect(report.refused.get('ImageDecodeError') ?? 0).toBeGreaterThan(CASES_PER_FORMAT / 4);
  });
});
