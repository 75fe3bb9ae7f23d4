/**
 * The published declarations in the TypeScript setups people use: a consumer file is type-checked
 * by `tsc` against the package installed from the packed tarball, strict and without
 * `skipLibCheck` (so every shipped `.d.ts` is checked), under Node-only (`lib: ["ES2022"]` with
 * @types/node, no DOM) and browser (`lib: ["ES2022", "DOM"]`) libs, each with `moduleResolution`
 * `nodenext` and `bundler`. Needs `npm run build` first.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerProject, packPackage, REPO, type PackedPackage } from '../support/consumer.js';

/** Touches the public API's main types, so the check reaches every declaration they pull in. */
const CONSUMER = `import {
  EfficientNet, createSyntheticWeights, decodeImage, createPreprocessor, InputShapeError,
  type CreateOptions, type Prediction, type WasmSource, type CodecWasm, type FeatureMap, type ThreadingReport,
} from 'efficientnet-wasm';

const wasm: WasmSource = new URL('https://example.com/efficientnet.wasm');
const codecWasm: CodecWasm = { jpeg: 'mozjpeg_dec.wasm', png: new Uint8Array(8) };
const options: CreateOptions = { variant: 'b0', weights: createSyntheticWeights({ variant: 'b0', seed: 1 }), wasm, codecWasm, threads: 'auto' };

export async function main(photo: Uint8Array): Promise<number> {
  const net = await EfficientNet.create(options);
  const top: Prediction[] = await net.classify(photo, { topk: 3, maxPixels: 1e6 });
  const maps: FeatureMap[] = await net.features(photo);
  const threading: ThreadingReport = net.threading;
  const synthetic: boolean = net.synthetic && top[0].synthetic;
  const { data } = await decodeImage(photo);
  const preprocessor = await createPreprocessor();
  net.dispose();
  if (!synthetic && new InputShapeError('x') instanceof Error) return 0;
  return top[0].probability + maps.length + threading.threads + data.length + (preprocessor ? 1 : 0);
}
`;

interface Setup {
  readonly name: string;
  readonly lib: readonly string[];
  readonly types: readonly string[];
  readonly module: string;
  readonly moduleResolution: string;
}

const SETUPS: readonly Setup[] = [
  { name: 'Node: ES2022 + @types/node, nodenext', lib: ['ES2022'], types: ['node'], module: 'nodenext', moduleResolution: 'nodenext' },
  { name: 'Node: ES2022 + @types/node, bundler', lib: ['ES2022'], types: ['node'], module: 'esnext', moduleResolution: 'bundler' },
  { name: 'browser: ES2022 + DOM, nodenext', lib: ['ES2022', 'DOM'], types: [], module: 'nodenext', moduleResolution: 'nodenext' },
  { name: 'browser: ES2022 + DOM, bundler', lib: ['ES2022', 'DOM'], types: [], module: 'esnext', moduleResolution: 'bundler' },
];

let packed: PackedPackage;
let project: string;

beforeAll(() => {
  packed = packPackage();
  project = consumerProject(packed, join(packed.workdir, 'typescript-app'), { 'src/use.ts': CONSUMER });
  // The compiler and Node's types come from this repository, as a project's own devDependencies would.
  mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'));
  // @types/node's own dependency, wherever npm put the version it asks for.
  const undici = dirname(createRequire(join(REPO, 'node_modules', '@types', 'node', 'package.json')).resolve('undici-types/package.json'));
  symlinkSync(undici, join(project, 'node_modules', 'undici-types'));
}, 300_000);

afterAll(() => packed?.remove());

describe('the published declarations', () => {
  for (const setup of SETUPS) {
    it(`type-check strictly, without skipLibCheck, under ${setup.name}`, async () => {
      const config = join(project, `tsconfig.${setup.lib.length}.${setup.moduleResolution}.json`);
      writeFileSync(config, JSON.stringify({
        compilerOptions: {
          target: 'ES2022', lib: setup.lib, types: setup.types, module: setup.module, moduleResolution: setup.moduleResolution,
          strict: true, skipLibCheck: false, noEmit: true,
        },
        files: ['src/use.ts'],
      }));
      const { spawnSync } = await import('node:child_process');
      const result = spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config, '--listFilesOnly'], { cwd: project, encoding: 'utf8' });
      expect(result.status).toBe(0);
      // The check did read the package's declarations (not an empty program).
      expect(result.stdout).toMatch(/node_modules\/efficientnet-wasm\/dist\/efficientnet\.d\.ts/);
      const check = spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { cwd: project, encoding: 'utf8' });
      expect(check.stdout + check.stderr).toBe('');
      expect(check.status).toBe(0);
    }, 120_000);
  }
});
