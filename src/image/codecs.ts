/**
 * The bundled decoders: @jsquash's mozjpeg and png crate builds, loaded on first use and rebuilt
 * after a failure. Their `.wasm` files are copied into this package's `build/codecs/` at build
 * time (scripts/copy-codecs.mjs) and located like the core's, by a URL relative to this module,
 * which Vite and webpack rewrite; `CodecWasm` points elsewhere (an esbuild bundle, a CDN).
 */
import { compileWasm, type WasmSource } from '../runtime/wasm.js';
import type { ImageCodecs, PixelData } from './decode.js';

/** Where the two decoders' `.wasm` files are, if not in the package's `build/codecs/`. */
export interface CodecWasm {
  /** mozjpeg's decoder, `efficientnet-wasm/codecs/mozjpeg_dec.wasm` in the package. */
  readonly jpeg?: WasmSource;
  /** The png crate's decoder, `efficientnet-wasm/codecs/squoosh_png_bg.wasm` in the package. */
  readonly png?: WasmSource;
}

const defaultJpegWasm = (): URL => new URL('../../build/codecs/mozjpeg_dec.wasm', import.meta.url);
const defaultPngWasm = (): URL => new URL('../../build/codecs/squoosh_png_bg.wasm', import.meta.url);

/** Loaded decoders per location (a location given as bytes or a module is its own key). */
const bundled = new Map<unknown, Promise<ImageCodecs>>();

export function bundledCodecs(locations: CodecWasm = {}): Promise<ImageCodecs> {
  const jpeg = locations.jpeg ?? defaultJpegWasm();
  const png = locations.png ?? defaultPngWasm();
  const key = typeof jpeg === 'string' || jpeg instanceof URL ? `${jpeg.toString()}|${png.toString()}` : locations;
  let codecs = bundled.get(key);
  if (codecs === undefined) {
    codecs = loadBundledCodecs(jpeg, png);
    bundled.set(key, codecs);
    codecs.catch(() => bundled.delete(key)); // let a later call try again
  }
  return codecs;
}

/*
 * A failed decode poisons a codec instance. Both codecs report a bad file by throwing a JavaScript
 * exception out through their WebAssembly frames (libjpeg's error_exit ends in Emscripten's exit(),
 * the png crate's errors in wasm-bindgen's throw). That skips the code that would restore the
 * instance's stack pointer and free the decode's buffers, so every failure leaks stack and heap.
 * Measured before this was handled: after 96 failed JPEG decodes (742 failed decodes of a 240 KB
 * PNG) every later decode failed, valid images included ("memory access out of bounds" and the like).
 * So an instance that failed once is dropped, and the next decode gets a fresh instance of the
 * already compiled module (measured: 4 ms for mozjpeg, 0.2 ms for png), paid only after a failure.
 */

/** mozjpeg through @jsquash's glue, which builds a fresh Emscripten instance on every init(). */
async function jpegDecoder(source: WasmSource): Promise<ImageCodecs['decodeJpeg']> {
  const [jpeg, compiled] = await Promise.all([
    import('@jsquash/jpeg/decode.js'), compileWasm(source, 'the JPEG decoder (mozjpeg_dec.wasm)'),
  ]);
  // mozjpeg prints libjpeg's warnings and errors; keep them for the error message instead.
  const jpegMessages: string[] = [];
  const jpegOptions = { print: () => {}, printErr: (line: string) => jpegMessages.push(line) };
  // The published typings of init() lag its code, which accepts (module, options) and (options).
  const initJpeg = jpeg.init as (moduleOrOptions?: WebAssembly.Module | object, options?: object) => Promise<void>;
  const freshInstance = (): Promise<void> => initJpeg(compiled, jpegOptions);
  await freshInstance();
  // One decode at a time, so the messages collected belong to the decode that failed.
  let queue: Promise<unknown> = Promise.resolve();
  return (bytes) => {
    const run = queue.then(async () => {
      jpegMessages.length = 0;
      try {
        return await jpeg.default(copyToArrayBuffer(bytes));
      } catch (error) {
        const detail = jpegMessages.join('; ') || (error instanceof Error ? error.message : String(error));
        await freshInstance();
        throw new Error(detail);
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };
}

type PngExports = import('@jsquash/png/codec/pkg/squoosh_png.js').InitOutput;

/**
 * One instance of the png crate's decoder (squoosh_png_bg.wasm, built with wasm-bindgen), bound
 * here: the package's own glue keeps a single instance for the whole page and cannot make another.
 * JS values cross into wasm as indices into `values`; indices below 132 are wasm-bindgen's fixed
 * slots (128..131: undefined, null, true, false). The decoder hands back its RGBA pixels through the
 * import that would build an ImageData, and its errors through `__wbindgen_throw`.
 */
function instantiatePng(module: WebAssembly.Module): (bytes: Uint8Array) => PixelData {
  const FIRST_FREE_INDEX = 132;
  const FIXED: readonly unknown[] = [undefined, null, true, false];
  const values = new Map<number, unknown>();
  let nextIndex = FIRST_FREE_INDEX;
  const hold = (value: unknown): number => {
    values.set(nextIndex, value);
    return nextIndex++;
  };
  const get = (index: number): unknown => (index < FIRST_FREE_INDEX ? FIXED[index - 128] : values.get(index));
  const take = (index: number): unknown => {
    const value = get(index);
    values.delete(index);
    return value;
  };
  let exports: PngExports;
  const bytesAt = (pointer: number, length: number): Uint8Array => new Uint8Array(exports.memory.buffer, pointer >>> 0, length >>> 0);
  const handlers: Record<string, (...args: number[]) => unknown> = {
    __wbindgen_memory: () => hold(exports.memory),
    __wbg_buffer_: (memory) => hold((get(memory) as WebAssembly.Memory).buffer),
    __wbg_newwithbyteoffsetandlength_: (buffer, offset, length) => hold(new Uint16Array(get(buffer) as ArrayBuffer, offset >>> 0, length >>> 0)),
    __wbindgen_object_drop_ref: (index) => void take(index),
    __wbg_newwithownedu8clampedarrayandsh_: (pointer, length, width, height) => {
      const data = new Uint8ClampedArray(bytesAt(pointer, length)); // [height, width, 4], copied out
      exports.__wbindgen_free(pointer, length, 1);
      return hold({ data, width: width >>> 0, height: height >>> 0 });
    },
    __wbindgen_throw: (pointer, length) => {
      throw new Error(new TextDecoder().decode(bytesAt(pointer, length)));
    },
  };
  // Import names end in a hash that changes between builds; match them by their stable prefix.
  const wbg: Record<string, (...args: number[]) => unknown> = {};
  for (const { name } of WebAssembly.Module.imports(module)) {
    const prefix = Object.keys(handlers).find((key) => name === key || (key.endsWith('_') && name.startsWith(key)));
    if (prefix === undefined) throw new Error(`the PNG codec needs an unknown import "${name}"; the @jsquash/png version is not supported`);
    wbg[name] = handlers[prefix];
  }
  exports = new WebAssembly.Instance(module, { wbg }).exports as unknown as PngExports;
  return (bytes) => {
    // The decoder takes ownership of the copy it is given and frees it.
    const pointer = exports.__wbindgen_malloc(bytes.length, 1) >>> 0;
    bytesAt(pointer, bytes.length).set(bytes);
    return take(exports.decode(pointer, bytes.length)) as PixelData;
  };
}

/** The png crate's decoder, on a fresh instance after any failure. */
async function pngDecoder(source: WasmSource): Promise<ImageCodecs['decodePng']> {
  const compiled = await compileWasm(source, 'the PNG decoder (squoosh_png_bg.wasm)');
  let decode: ((bytes: Uint8Array) => PixelData) | null = null;
  return async (bytes) => {
    decode ??= instantiatePng(compiled);
    try {
      return decode(bytes);
    } catch (error) {
      decode = null;
      throw error;
    }
  };
}

async function loadBundledCodecs(jpeg: WasmSource, png: WasmSource): Promise<ImageCodecs> {
  const [decodeJpeg, decodePng] = await Promise.all([jpegDecoder(jpeg), pngDecoder(png)]);
  return { decodeJpeg, decodePng };
}

/**
 * The JPEG codec takes a whole ArrayBuffer, and a view may cover part of a larger one (a Node
 * Buffer usually lies in a shared pool, and its slice() is a view too), so copy into a fresh buffer.
 */
function copyToArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}
