/**
 * Finding, compiling and instantiating the core. The `.wasm` sits at `build/efficientnet.wasm`
 * in the package; `src/` and `dist/` are at the same depth, so the same relative URL works from
 * the TypeScript sources and from the compiled JavaScript. The literal `new URL(..., import.meta.url)`
 * is the pattern bundlers recognise and rewrite.
 */
import { ConfigError } from '../errors.js';

/** Where the core's bytes come from: a URL, a path, the bytes themselves, or a compiled module. */
export type WasmSource = URL | string | ArrayBuffer | Uint8Array | WebAssembly.Module;

/** The instance's exports, untyped; `src/runtime/kernels.ts` gives them types. */
export type CoreExports = WebAssembly.Exports & { memory: WebAssembly.Memory };

const defaultWasmUrl = (): URL => new URL('../../build/efficientnet.wasm', import.meta.url);
/** The relaxed-SIMD build (simd.ts), beside the default one. */
export const relaxedWasmUrl = (): URL => new URL('../../build/efficientnet-relaxed.wasm', import.meta.url);

const moduleCache = new Map<string, Promise<WebAssembly.Module>>();

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * A URL, or a plain path: a file path in Node; elsewhere a URL relative to the page (or worker)
 * script, as `fetch` would read it.
 */
function locate(source: URL | string): URL | string {
  if (source instanceof URL || /^[a-z][a-z0-9+.-]*:/i.test(source)) return new URL(source);
  if (isNode()) return source;
  const base = (globalThis as { location?: { href: string } }).location?.href;
  if (base === undefined) throw new ConfigError(`cannot locate the WebAssembly core "${source}": give a full URL`);
  return new URL(source, base);
}

const reason = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));

async function readBytes(source: URL | string): Promise<Uint8Array<ArrayBuffer>> {
  const where = locate(source);
  if (typeof where === 'string' || where.protocol === 'file:') {
    // Node: read the file directly; `fetch` does not accept file: URLs there. Imported only here,
    // so browsers never load a Node built-in.
    const { readFile } = await import('node:fs/promises');
    try {
      return new Uint8Array(await readFile(where));
    } catch (error) {
      throw new ConfigError(`could not read the WebAssembly core from ${where.toString()}: ${reason(error)}`);
    }
  }
  let response: Response;
  try {
    response = await fetch(where);
  } catch (error) {
    throw new ConfigError(`could not fetch the WebAssembly core from ${where.href}: ${reason(error)}`);
  }
  if (!response.ok) {
    throw new ConfigError(`could not fetch the WebAssembly core from ${where.href}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Compiles the core once per source; later instances reuse the compiled module. */
export async function compileCore(source: WasmSource = defaultWasmUrl()): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) {
    // Copying a view into a fresh Uint8Array gives WebAssembly.compile a plain ArrayBuffer-backed view.
    return WebAssembly.compile(source instanceof Uint8Array ? new Uint8Array(source) as Uint8Array<ArrayBuffer> : source);
  }
  const key = source.toString();
  let cached = moduleCache.get(key);
  if (!cached) {
    cached = readBytes(source).then((bytes) => WebAssembly.compile(bytes));
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
