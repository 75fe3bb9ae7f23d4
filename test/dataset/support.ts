/**
 * Shared pieces of the dataset command tests: a scratch photo tree, the built CLI run in the
 * background (to kill it mid-run), and byte comparison of output directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const MODEL = 'tf_efficientnet_b0.ns_jft_in1k';
export const PHOTOS = ['chelsea.png', 'grace_hopper.jpg', 'panda.jpg'].map((name) => fileURLToPath(new URL(`../../data/images/${name}`, import.meta.url)));
export const OUTPUT_FILES = ['embeddings.npy', 'index.jsonl', 'errors.jsonl', 'manifest.json'];

const scratchDirs: string[] = [];

/** A new temporary directory, removed by `removeScratch` (call it in afterAll). */
export function scratch(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `efficientnet-${label}-`));
  scratchDirs.push(dir);
  return dir;
}

export function removeScratch(): void {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** `count` paths cycling through the bundled photos as copies in `dir` (names sort as created). */
export function photoCopies(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: count }, (_, i) => {
    const source = PHOTOS[i % PHOTOS.length];
    const path = join(dir, `${String(i).padStart(4, '0')}${source.slice(source.lastIndexOf('.'))}`);
    copyFileSync(source, path);
    return path;
  });
}

export function writeList(path: string, paths: readonly string[]): string {
  writeFileSync(path, `${paths.join('\n')}\n`);
  return path;
}

/** The CLI as a background process, for signals. */
export function startCli(args: readonly string[]): { child: ChildProcess; done: Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
  return { child, done };
}

export function readManifest(dir: string): { state: string; processed: number; rows: number; errors: number; bytes: Record<string, number> } | null {
  const path = join(dir, 'manifest.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
}

/** Polls until the run's manifest shows at least `processed` list positions committed. */
export async function waitForCheckpoint(dir: string, processed: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const manifest = readManifest(dir);
    if (manifest !== null && manifest.state === 'partial' && manifest.processed >= processed) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no checkpoint with ${processed} positions in ${dir} within ${timeoutMs} ms`);
}

/** The names of the output files whose bytes differ between two directories. */
export function differingFiles(a: string, b: string): string[] {
  return OUTPUT_FILES.filter((name) => Buffer.compare(readFileSync(join(a, name)), readFileSync(join(b, name))) !== 0);
}
