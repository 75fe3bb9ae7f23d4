/**
 * Runs the built CLI (`dist/cli/main.js`, made by `npm run build`, which `npm test` runs first)
 * in a child process, as a user would.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], cwd?: string): CliResult {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd, maxBuffer: 64 * 2 ** 20 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
