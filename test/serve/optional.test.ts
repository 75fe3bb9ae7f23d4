/**
 * The server's packages are optional: the library's import graph never reaches them, a missing
 * one is named in a one-line error with the command that installs them, and the Kubernetes
 * manifest in docs/ runs options the command has, with readiness on /readyz.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { serveUsage } from '../../src/cli/commands/serve.js';
import { runCli } from '../support/cli.js';
import { SERVE_MODEL } from './support.js';

const SERVE_PACKAGES = ['fastify', '@fastify/multipart', 'prom-client'];

describe('serve dependencies are optional', () => {
  it('keeps them out of the library entry point', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../../src/index.ts', import.meta.url))],
      bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes('src/index.ts'))).toBe(true);
    expect(inputs.filter((path) => path.includes('src/serve/'))).toEqual([]);
    const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((i) => i.path));
    for (const name of SERVE_PACKAGES) expect(imports).not.toContain(name);
  });

  it('names the packages to install, in one line, when they are missing', () => {
    const hide = fileURLToPath(new URL('./fixtures/hide-serve-packages.mjs', import.meta.url));
    const result = runCli(['serve', '--model', SERVE_MODEL, '--random-weights', '--port', '0'], undefined, ['--import', hide]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'efficientnet serve: serving needs the optional packages fastify, @fastify/multipart, prom-client; install them with: npm install fastify @fastify/multipart prom-client',
    ]);
  });
});

describe('docs/kubernetes-serve.yaml', () => {
  const manifest = readFileSync(new URL('../../docs/kubernetes-serve.yaml', import.meta.url), 'utf8');

  it('holds a Deployment and a Service, with readiness on /readyz and liveness on /healthz', () => {
    expect(manifest).toMatch(/^kind: Deployment$/m);
    expect(manifest).toMatch(/^kind: Service$/m);
    expect(manifest).toMatch(/readinessProbe:\n\s+httpGet: \{ path: \/readyz, port: http \}/);
    expect(manifest).toMatch(/livenessProbe:\n\s+httpGet: \{ path: \/healthz, port: http \}/);
  });

  it('runs only options the serve command has', () => {
    const flags = [...manifest.matchAll(/^\s+- (--[a-z-]+)$/gm)].map((m) => m[1]);
    expect(flags.length).toBeGreaterThan(5);
    for (const flag of flags) expect(serveUsage).toContain(`${flag} `);
  });
});
