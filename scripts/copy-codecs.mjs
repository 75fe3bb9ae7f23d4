// Copies the two image decoders' .wasm files from their @jsquash packages into build/codecs/, so
// the package locates them the way it locates its own core (src/image/codecs.ts) and exports
// them as efficientnet-wasm/codecs/*.wasm. The versions are pinned in package.json, so the copies
// always match the glue code that instantiates them.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const target = fileURLToPath(new URL('../build/codecs/', import.meta.url));
mkdirSync(target, { recursive: true });
for (const [specifier, name] of [
  ['@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm', 'mozjpeg_dec.wasm'],
  ['@jsquash/png/codec/pkg/squoosh_png_bg.wasm', 'squoosh_png_bg.wasm'],
]) {
  copyFileSync(require.resolve(specifier), target + name);
}
