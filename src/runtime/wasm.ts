/**
 * Finding, compiling and instantiating the core. The `.wasm` sits at `build/efficientnet.wasm`
 * in the package; `src/` and `dist/` are at the same depth, so the same relative URL works from
 * the TypeScript sources and from the compiled JavaScript. The literal `new URL(..., import.meta.url)`
 * is the pattern bundlers recognise and rewrite.
 */
import { ConfigError } from '../errors.js';
import { platform } from './platform/detect.js';
import type { WasmMemory, WasmModule } from './wasm-types.js';

/**
 * A compiled `WebAssembly.Module`, typed structurally (any object) so that the published
 * declarations type-check without the DOM or WebAssembly libs; `compileWasm` checks it at run time.
 */
export type CompiledWasmModule = object;

/**
 * Where a `.wasm` file's bytes come from: a URL, a path (a file in Node; elsewhere relative to
 * the page), the bytes themselves, or an already compiled `WebAssembly.Module`.
 */
export type WasmSource = URL | string | ArrayBuffer | Uint8Array | CompiledWasmModule;

/** The instance's exports, untyped; `src/runtime/kernels.ts` gives them types. */
export type CoreExports = Record<string, unknown> & { memory: WasmMemory };

const defaultWasmUrl = (): URL => new URL('../../build/efficientnet.wasm', import.meta.url);
/** The relaxed-SIMD build (simd.ts), beside the default one. */
export const relaxedWasmUrl = (): URL => new URL('../../build/efficientnet-relaxed.wasm', import.meta.url);

const moduleCache = new Map<string, Promise<WasmModule>>();

/**
 * A URL, or a plain path: a file path in Node; elsewhere a URL relative to the page (or worker)
 * script, as `fetch` would read it.
 */
function locate(source: URL | string, what: string): URL | string {
  if (source instanceof URL || /^[a-z][a-z0-9+.-]*:/i.test(source)) return new URL(source);
  if (platform.isNode) return source;
  const base = (globalThis as { location?: { href: string } }).location?.href;
  if (base === undefined) throw new ConfigError(`cannot locate ${what} "${source}": give a full URL`);
  return new URL(source, base);
}

const reason = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));

async function readBytes(source: URL | string, what: string): Promise<Uint8Array<ArrayBuffer>> {
  const where = locate(source, what);
  if (typeof where === 'string' || where.protocol === 'file:') {
    // Node: read the file directly; `fetch` does not accept file: URLs there.
    try {
      return await platform.readFile(where);
    } catch (error) {
      throw new ConfigError(`could not read ${what} from ${where.toString()}: ${reason(error)}`);
    }
  }
  let response: Response;
  try {
    response = await fetch(where);
  } catch (error) {
    throw new ConfigError(`could not fetch ${what} from ${where.href}: ${reason(error)}`);
  }
  if (!response.ok) {
    throw new ConfigError(`could not fetch ${what} from ${where.href}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Compiles the core once per source; later instances reuse the compiled module. */
export function compileCore(source: WasmSource = defaultWasmUrl()): Promise<WasmModule> {
  return compileWasm(source, 'the WebAssembly core');
}

/**
 * Compiles any `.wasm` (the core, a codec) once per URL or path; `what` names it in errors.
 * Bytes compile afresh; a compiled module is returned as it is.
 */
export async function compileWasm(source: WasmSource, what: string): Promise<WasmModule> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) {
    // Copying a view into a fresh Uint8Array gives WebAssembly.compile a plain ArrayBuffer-backed view.
    return WebAssembly.compile(source instanceof Uint8Array ? new Uint8Array(source) as Uint8Array<ArrayBuffer> : source);
  }
  if (!(source instanceof URL) && typeof source !== 'string') {
    throw new ConfigError(`${what} must be given as a URL, a path, bytes or a compiled WebAssembly.Module`);
  }
  const key = source.toString();
  let cached = moduleCache.get(key);
  if (!cached) {
    cached = readBytes(source, what).then((bytes) => WebAssembly.compile(bytes));
    moduleCache.set(key, cached);
    cached.catch(() => moduleCache.delete(key));
  }
  return cached;
}

/** A fresh instance with its own memory. */
export async function instantiateCore(source?: WasmSource): Promise<CoreExports> {
  const module = await compileCore(source);
  const instance = await WebAssembly.instantiate(module, {});
  return instance.exports as CoreExports;
}
