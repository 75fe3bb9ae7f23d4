// Prints the size of each built core so the build log and the README can state it.
import { statSync } from 'node:fs';

for (const name of ['efficientnet.wasm', 'efficientnet-threads.wasm', 'efficientnet-relaxed.wasm', 'efficientnet-relaxed-threads.wasm']) {
  const bytes = statSync(new URL(`../build/${name}`, import.meta.url)).size;
  console.log(`build/${name}: ${(bytes / 1024).toFixed(1)} KB`);
}
