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

describe('the browser entry point', () => {
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
