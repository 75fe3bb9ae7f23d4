/**
 * Runs the built CLI (`dist/cli/main.js`, made by `npm run build`, which `npm test` runs first)
 * in a child process, as a user would.
 */
import { spawnSync, type ChildProcessByStdio, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node [nodeFlags] dist/cli/main.js args` and waits for it. */
export function runCli(args: string[], cwd?: string, nodeFlags: readonly string[] = []): CliResult {
  const result = spawnSync(process.execPath, [...nodeFlags, MAIN, ...args], { encoding: 'utf8', cwd, maxBuffer: 64 * 2 ** 20 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The first stdout line of a long-running child (such as `efficientnet demo` printing its address). */
export function firstLine(child: ChildProcessWithoutNullStreams | ChildProcessByStdio<null, Readable, Readable>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) resolve(output);
    });
    child.on('exit', (code) => reject(new Error(`the command exited with ${code} before printing a line`)));
  });
}
