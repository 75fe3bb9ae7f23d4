/**
 * What a browser loads from the package entry: every module reachable from dist/index.js through
 * static imports. None may import a Node built-in (or any bare package name, which a browser
 * cannot resolve without an import map); Node-only code is reached through dynamic import() on
 * Node-only paths. Needs `npm run build` first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/** `import … from 'x'`, `export … from 'x'` and `import 'x'` at the start of a line, as tsc writes them. */
const STATIC_IMPORT = /(?:^|\n)[ \t]*(?:import|export)\s+(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g;

function staticGraph(entry: string): { modules: string[]; bare: string[] } {
  const seen = new Set<string>();
  const bare: string[] = [];
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
      else bare.push(`${relative(DIST, file)} imports ${specifier}`);
    }
  }
  return { modules: [...seen].map((f) => relative(DIST, f)), bare };
}

/** `import(...)` and static imports alike, as a bundler follows them. */
const ANY_IMPORT = /(?:(?:^|\n)[ \t]*(?:import|export)\s+(?:[^'";]*?\sfrom\s*)?|\bimport\s*\(\s*)['"]([^'"]+)['"]/g;

/** Every module a browser bundler reaches from `entry`, with the package.json `browser` map applied; the bare specifiers it meets. */
function browserGraph(entry: string, browserMap: Record<string, string>): { modules: string[]; bare: string[] } {
  const root = resolve(DIST, '..');
  const mapped = new Map(Object.entries(browserMap).map(([from, to]) => [resolve(root, from), resolve(root, to)]));
  const seen = new Set<string>();
  const bare = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    const actual = mapped.get(file) ?? file;
    if (seen.has(actual)) continue;
    seen.add(actual);
    for (const [, specifier] of readFileSync(actual, 'utf8').matchAll(ANY_IMPORT)) {
      if (specifier.startsWith('.')) pending.push(resolve(dirname(actual), specifier));
      else bare.add(specifier);
    }
  }
  return { modules: [...seen].map((f) => relative(DIST, f)), bare: [...bare] };
}

describe('the browser entry point', () => {
  it('reaches no Node built-in, not even by dynamic import, once bundlers apply the package\'s browser map', () => {
    const manifest = JSON.parse(readFileSync(resolve(DIST, '..', 'package.json'), 'utf8')) as {
      browser: Record<string, string>; optionalDependencies: Record<string, string>;
    };
    const { modules, bare } = browserGraph(resolve(DIST, 'index.js'), manifest.browser);
    expect(modules).toContain('runtime/platform/browser.js');
    expect(modules).not.toContain('runtime/platform/detect.js');
    expect(bare.filter((s) => s.startsWith('node:'))).toEqual([]);
    // The only packages it names are the decoders' glue, which is always installed. An optional
    // package named literally would fail every browser build made without it (--omit=optional):
    // those are imported by a name held in a variable, which bundlers leave alone.
    expect(bare.filter((s) => !s.startsWith('@jsquash/'))).toEqual([]);
    expect(Object.keys(manifest.optionalDependencies).length).toBeGreaterThan(0);
    // Without the map, the Node file and its dynamic Node imports are there: the check can fail.
    expect(browserGraph(resolve(DIST, 'index.js'), {}).bare.filter((s) => s.startsWith('node:')).length).toBeGreaterThan(0);
  });

  const entry = resolve(DIST, 'index.js');

  it('statically imports only the package\'s own modules', () => {
    expect(existsSync(entry)).toBe(true);
    const { modules, bare } = staticGraph(entry);
    expect(bare).toEqual([]);
    // The walk really followed the graph: the model object and the core loader are in it, the CLI is not.
    expect(modules).toContain('efficientnet.js');
    expect(modules).toContain('runtime/wasm.js');
    expect(modules.filter((m) => m.startsWith('cli/'))).toEqual([]);
  });
});
