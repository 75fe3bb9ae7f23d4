// Prints the size of the built core so the build log and the README can state it.
import { statSync } from 'node:fs';

const path = new URL('../build/efficientnet.wasm', import.meta.url);
const bytes = statSync(path).size;
console.log(`build/efficientnet.wasm: ${(bytes / 1024).toFixed(1)} KB`);
