/**
 * The relaxed-SIMD benches need an engine with relaxed SIMD on. Node 20 has it only behind a V8
 * flag, which cannot be turned on once the process runs; later versions have it by default. So a
 * bench that finds it off starts itself again with the flag, and reports the reason if even that
 * does not help.
 */
import { spawnSync } from 'node:child_process';
import { RELAXED_SIMD_FLAG, relaxedSimdProblem } from '../src/runtime/simd.js';

/** Returns when this process can run relaxed SIMD; otherwise reruns the bench with the flag and exits with its status. */
export function ensureRelaxedSimd(): void {
  const problem = relaxedSimdProblem();
  if (problem === null) return;
  if (process.execArgv.includes(RELAXED_SIMD_FLAG)) {
    console.error(`relaxed-SIMD bench: ${problem}`);
    process.exit(2);
  }
  const rerun = spawnSync(process.execPath, [...process.execArgv, RELAXED_SIMD_FLAG, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(rerun.status ?? 1);
}
