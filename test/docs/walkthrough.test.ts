/**
 * docs/walkthrough.md stays true to the code. Its convention (stated at its top):
 *
 * - a backticked path starting with one of PATH_ROOTS names a file or folder that must exist;
 * - "`symbol` in `file.ts`", or a list "`a`, `b` and `c` in `file.ts`", names things that file
 *   declares. In TypeScript that is `function`, `const`, `let`, `class`, `interface`, `type` or
 *   `enum` followed by the name; in `assembly/` an `export function` or `export const`;
 *   `Type.member` needs the class or interface declared and the member defined in the same file;
 * - every embedded SVG is written by one of the `efficientnet diagram` commands the page lists,
 *   and the committed file equals what that command produces from the code now.
 *
 * Fenced code blocks are examples, not references, and are skipped by the first two checks.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diagramCommand } from '../../src/cli/commands/diagram.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC_PATH = 'docs/walkthrough.md';
const DOC = readFileSync(join(ROOT, DOC_PATH), 'utf8');

const PATH_ROOTS = ['src/', 'assembly/', 'test/', 'docs/'];

const withoutCodeBlocks = (markdown: string): string => markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');

/** Backticked spans that are repository paths. */
function pathReferences(markdown: string): string[] {
  const spans = [...withoutCodeBlocks(markdown).matchAll(/`([^`\s]+)`/g)].map((m) => m[1]);
  return [...new Set(spans.filter((s) => PATH_ROOTS.some((root) => s.startsWith(root))))];
}

interface SymbolReference {
  readonly symbol: string;
  readonly file: string;
}

const IDENTIFIER = '[A-Za-z_$][\\w$]*(?:\\.[A-Za-z_$][\\w$]*)?';

/** Every "`symbol` in `path.ts`" and "`a`, `b` and `c` in `path.ts`", line breaks allowed. */
function symbolReferences(markdown: string): SymbolReference[] {
  const list = new RegExp(`((?:\`${IDENTIFIER}\`(?:,\\s+|\\s+and\\s+))*\`${IDENTIFIER}\`)\\s+in\\s+\`([^\`\\s]+\\.ts)\``, 'g');
  return [...withoutCodeBlocks(markdown).matchAll(list)].flatMap((match) =>
    [...match[1].matchAll(/`([^`]+)`/g)].map((symbol) => ({ symbol: symbol[1], file: match[2] })));
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Why the reference is wrong, or null when the file declares the symbol. */
function checkSymbol({ symbol, file }: SymbolReference): string | null {
  const path = join(ROOT, file);
  if (!existsSync(path)) return `${file} does not exist`;
  const source = readFileSync(path, 'utf8');
  const declares = (name: string): boolean => {
    const keyword = file.startsWith('assembly/') ? 'export\\s+(?:function|const)' : '(?:function\\*?|const|let|class|interface|type|enum)';
    return new RegExp(`\\b${keyword}\\s+${escapeRegExp(name)}\\b`).test(source);
  };
  const [owner, member] = symbol.split('.');
  if (!declares(owner)) return `${file} declares no ${owner}`;
  if (member !== undefined && !new RegExp(`^\\s*(?:(?:public|private|protected|static|async|readonly|get)\\s+)*${escapeRegExp(member)}\\s*[?(<:=]`, 'm').test(source)) {
    return `${file} defines no member ${member} of ${owner}`;
  }
  return null;
}

describe('the reference checker', () => {
  it('finds single and listed references across line breaks, and catches wrong ones', () => {
    const sample = 'See `buildNetwork` in `src/arch/network.ts`, and `roundChannels`,\n`roundRepeats` and `noSuchRule` in\n`src/arch/scaling.ts`.';
    const references = symbolReferences(sample);
    expect(references.map((r) => r.symbol)).toEqual(['buildNetwork', 'roundChannels', 'roundRepeats', 'noSuchRule']);
    expect(references.map(checkSymbol)).toEqual([null, null, null, 'src/arch/scaling.ts declares no noSuchRule']);
    expect(checkSymbol({ symbol: 'buildNetwork', file: 'src/arch/no-such-file.ts' })).toMatch(/does not exist/);
    expect(checkSymbol({ symbol: 'WasmEngine.prepare', file: 'src/runtime/wasm-engine.ts' })).toBeNull();
    expect(checkSymbol({ symbol: 'WasmEngine.launch', file: 'src/runtime/wasm-engine.ts' })).toMatch(/no member launch/);
    expect(checkSymbol({ symbol: 'RunOptions.onCheckpoint', file: 'src/runtime/outputs.ts' })).toBeNull();
    // In the core only exports count: a helper the host cannot call is not a kernel.
    expect(checkSymbol({ symbol: 'batchnorm_fold', file: 'assembly/batchnorm.ts' })).toBeNull();
    expect(checkSymbol({ symbol: 'filterWeight', file: 'assembly/resize.ts' })).toMatch(/declares no/);
  });
  it('ignores code blocks', () => {
    expect(pathReferences('```ts\n`src/nowhere.ts`\n```\n`src/arch/`')).toEqual(['src/arch/']);
  });
});

describe(DOC_PATH, () => {
  it('states the reference convention this test checks', () => {
    expect(DOC).toContain('"`buildNetwork` in `src/arch/network.ts`"');
    for (const root of PATH_ROOTS) expect(DOC).toContain(`\`${root}\``);
  });

  it('names only files and folders that exist', () => {
    const paths = pathReferences(DOC);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it('names only symbols that the named files declare', () => {
    const references = symbolReferences(DOC);
    expect(references.length).toBeGreaterThan(0);
    const problems = references.map(checkSymbol).filter((p) => p !== null);
    expect(problems).toEqual([]);
  });

  // The commands of the "Regenerating the figures" block, and the SVGs the page embeds.
  const commands = [...DOC.matchAll(/^efficientnet diagram (.+)$/gm)].map((m) => m[1].trim().split(/\s+/));
  const outputOf = (args: string[]): string => args[args.indexOf('--out') + 1];
  const embedded = [...DOC.matchAll(/!\[([^\]]*)\]\(([^)]+\.svg)\)/g)].map((m) => ({ alt: m[1], file: normalize(join('docs', m[2])) }));

  it('embeds figures with alternative text, each written by a listed command', () => {
    expect(embedded.length).toBeGreaterThan(0);
    const written = new Set(commands.map((args) => normalize(outputOf(args))));
    for (const { alt, file } of embedded) {
      expect(alt.length, `alt text of ${file}`).toBeGreaterThan(20);
      expect(written.has(file), `${file} is embedded but no listed command writes it`).toBe(true);
    }
  });

  it('commits figures identical to what the code draws now', () => {
    expect(commands.length).toBeGreaterThan(0);
    const scratch = mkdtempSync(join(tmpdir(), 'efficientnet-docs-'));
    commands.forEach((args, i) => {
      const committed = join(ROOT, outputOf(args));
      const fresh = join(scratch, `${i}.svg`);
      diagramCommand(args.map((a) => (a === outputOf(args) ? fresh : a)), () => {});
      expect(existsSync(committed), `${outputOf(args)} is missing: run efficientnet diagram ${args.join(' ')}`).toBe(true);
      expect(readFileSync(committed, 'utf8') === readFileSync(fresh, 'utf8'),
        `${outputOf(args)} is out of date: run efficientnet diagram ${args.join(' ')}`).toBe(true);
    });
  });
});
