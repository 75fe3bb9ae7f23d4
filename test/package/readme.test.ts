/**
 * Every ```js block of the README runs as written, against the package installed from the packed
 * tarball (a default install, optional packages included), each as its own ES module in a fresh
 * Node process. Where a block names a file a user would bring (a checkpoint, a photo), the test
 * puts a stand-in there under that name: synthetic B0 weights as `model.safetensors`, a bundled
 * photo as `panda.jpg`, and the package's `.wasm` files next to the script, as the Bundlers
 * section's esbuild steps copy them. Needs `npm run build` first.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyntheticWeights } from '../../src/weights/synthetic.js';
import { consumerProject, packPackage, REPO, type PackedPackage } from '../support/consumer.js';

/** How long one block may run: B0 on synthetic weights takes about a second here; 120 s leaves room for a busy machine. */
const BLOCK_TIMEOUT_MS = 120_000;

interface Block {
  readonly line: number;
  readonly source: string;
}

/** The README's ```js blocks, dedented (blocks inside list items are indented), with their first line's number. */
function javascriptBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^([ \t]*)```js\s*$/.exec(lines[i]);
    if (open === null) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^[ \t]*```\s*$/.test(lines[j])) body.push(lines[j++].slice(indent));
    blocks.push({ line: i + 2, source: body.join('\n') + '\n' });
    i = j;
  }
  return blocks;
}

/** The files a block may use, as the test provides them. Add here what a new block needs. */
const PROVIDED = `model.safetensors (synthetic B0 weights, timm names), panda.jpg, and the package's .wasm files
(efficientnet*.wasm, mozjpeg_dec.wasm, squoosh_png_bg.wasm) in the block's directory`;

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const blocks = javascriptBlocks(README);
let packed: PackedPackage;
let project: string;

beforeAll(() => {
  packed = packPackage();
  project = consumerProject(packed, join(packed.workdir, 'readme'), {}, false);
  const installed = join(project, 'node_modules', 'efficientnet-wasm');
  writeFileSync(join(project, 'model.safetensors'), createSyntheticWeights({ variant: 'b0', seed: 11 }));
  copyFileSync(join(installed, 'data', 'images', 'panda.jpg'), join(project, 'panda.jpg'));
  for (const dir of ['build', join('build', 'codecs')]) {
    for (const file of readdirSync(join(installed, dir)).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(installed, dir, file), join(project, file));
  }
}, 300_000);

afterAll(() => packed?.remove());

describe('the README\'s JavaScript', () => {
  it('has blocks to run (the extractor finds them, indented ones included)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(blocks.some((b) => b.source.includes("from 'efficientnet-wasm'"))).toBe(true);
    expect(javascriptBlocks('- item\n\n  ```js\n  const a = 1;\n  ```\n')).toEqual([{ line: 4, source: 'const a = 1;\n' }]);
  });

  for (const [index, block] of blocks.entries()) {
    it(`block ${index + 1} (README line ${block.line}) runs as written`, () => {
      const file = `readme-block-${index + 1}.mjs`;
      writeFileSync(join(project, file), block.source);
      const result = spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS });
      const advice = `README.md line ${block.line}: the \`\`\`js block failed (exit ${result.status}${result.signal ? `, ${result.signal}` : ''}).\n` +
        `Each \`\`\`js block runs as its own ES module with Node in a fresh project where efficientnet-wasm is installed ` +
        `from the packed tarball (optional packages included), with ${PROVIDED}. ` +
        `A block must finish by itself within ${BLOCK_TIMEOUT_MS / 1000} s (dispose models, close servers) and exit 0. ` +
        `If it needs another file, add it in beforeAll of test/package/readme.test.ts and to PROVIDED; ` +
        `if it is not JavaScript that runs in Node, fence it as another language.\n` +
        `stderr:\n${result.stderr}`;
      expect(result.status, advice).toBe(0);
    }, BLOCK_TIMEOUT_MS + 10_000);
  }
});
