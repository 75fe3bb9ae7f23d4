/**
 * Opening a weights file and reading every tensor under timm's names, Keras .h5 against the
 * safetensors it was converted from (the committed fixture pair, a small custom-width network):
 * what the HDF5 structure walk (jsfive) and the Keras name mapping and transposes cost over
 * safetensors, as a ratio of medians measured interleaved in the same process.
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/weights-open.bench.js
 */
import { readFileSync } from 'node:fs';
import { toTimmNaming } from '../src/weights/naming/index.js';
import { openWeights } from '../src/weights/open.js';
import { elementCount } from '../src/weights/source.js';
import { interleave, machineLine } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 10);

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../test/fixtures/keras/${name}`, import.meta.url)));
const files = { keras: fixture('tiny-weights.h5'), safetensors: fixture('tiny.safetensors') };

/** Opens, maps and reads every float tensor, as the model's packing does; returns the values read. */
async function openAndRead(bytes: Uint8Array): Promise<number> {
  const { source } = await toTimmNaming(await openWeights(bytes));
  let values = 0;
  for (const tensor of source.tensors.values()) {
    const destination = new Float32Array(elementCount(tensor.shape)); // [elements of tensor.shape]
    source.readInto(tensor.name, destination);
    values += destination.length;
  }
  return values;
}

const counts = { keras: await openAndRead(files.keras), safetensors: await openAndRead(files.safetensors) };
if (counts.keras !== counts.safetensors) throw new Error(`the two files hold different tensors (${counts.keras} vs ${counts.safetensors} values)`);

const results = await interleave([
  { name: 'safetensors', run: () => openAndRead(files.safetensors) },
  { name: 'keras .h5', run: () => openAndRead(files.keras) },
], ROUNDS, ITERATIONS);

console.log(`open + read ${counts.keras} values under timm names; ${machineLine()}`);
const base = results.find((r) => r.name === 'safetensors')!.medianMs;
for (const r of results) {
  console.log(`  ${r.name.padEnd(12)} median ${r.medianMs.toFixed(2).padStart(7)} ms  (${r.samples} runs)  ratio to safetensors ${(r.medianMs / base).toFixed(2)}`);
}
