/**
 * The demo server (`efficientnet demo`): what it serves, with which headers, and what it refuses.
 * Plain HTTP from Node; no browser needed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoServer, type DemoServer } from '../../src/cli/commands/demo.js';
import { firstLine, runCli } from '../support/cli.js';

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** Sends `path` exactly as given (fetch would normalise `..` away before it leaves the client). */
function rawRequest(base: string, path: string, method = 'GET'): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const packageFile = (path: string): Buffer => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)));

let server: DemoServer;

beforeAll(async () => {
  server = await startDemoServer({ port: 0 });
});

afterAll(async () => {
  await server?.close();
});

describe('the demo server', () => {
  it('listens on the loopback address by default', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it.each([
    ['/demo/', 'text/html; charset=utf-8', 'demo/index.html'],
    ['/demo/demo.js', 'text/javascript; charset=utf-8', 'demo/demo.js'],
    ['/demo/demo.css', 'text/css; charset=utf-8', 'demo/demo.css'],
    ['/dist/index.js', 'text/javascript; charset=utf-8', 'dist/index.js'],
    ['/build/efficientnet.wasm', 'application/wasm', 'build/efficientnet.wasm'],
    ['/data/images/panda.jpg', 'image/jpeg', 'data/images/panda.jpg'],
    ['/data/images/chelsea.png', 'image/png', 'data/images/chelsea.png'],
  ])('serves %s as %s, byte for byte', async (path, type, file) => {
    const response = await rawRequest(server.url, path);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(type);
    expect(response.body.equals(packageFile(file))).toBe(true);
  });

  it('serves the image codecs the page imports, wherever npm installed them', async () => {
    const script = await rawRequest(server.url, '/node_modules/@jsquash/jpeg/decode.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const wasm = await rawRequest(server.url, '/node_modules/@jsquash/png/codec/pkg/squoosh_png_bg.wasm');
    expect(wasm.status).toBe(200);
    expect(wasm.headers['content-type']).toBe('application/wasm');
  });

  it('sends the cross-origin isolation headers on every response, found or not', async () => {
    for (const path of ['/demo/', '/build/efficientnet.wasm', '/nowhere']) {
      const { headers } = await rawRequest(server.url, path);
      expect(headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(headers['cross-origin-embedder-policy']).toBe('require-corp');
    }
  });

  it('sends / to the demo page', async () => {
    const response = await rawRequest(server.url, '/');
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/demo/');
  });

  it.each([
    '/package.json',
    '/src/index.ts',
    '/test/browser/demo-server.test.ts',
    '/node_modules/vitest/package.json',
    '/../package.json',
    '/demo/../package.json',
    '/demo/%2e%2e/package.json',
    '/demo/..%2fpackage.json',
    '/demo/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '/dist/..%2f..%2f..%2fetc%2fpasswd',
    '/data/..%5cpackage.json',
    '/build/%00efficientnet.wasm',
    '/demo/%E0%A4%A',
    '/demo/.hidden',
    '//etc/passwd',
    '/build/',
  ])('refuses %s', async (path) => {
    const response = await rawRequest(server.url, path);
    expect(response.status).toBe(404);
    expect(response.body.toString()).toBe('not found\n');
  });

  it('answers only GET and HEAD', async () => {
    const post = await rawRequest(server.url, '/demo/', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await rawRequest(server.url, '/build/efficientnet.wasm', 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(packageFile('build/efficientnet.wasm').length);
    expect(head.body.length).toBe(0);
  });
});

describe('efficientnet demo', () => {
  it('prints the page address and serves it until stopped', async () => {
    const main = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    const child = spawn(process.execPath, [main, 'demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await firstLine(child);
      const url = /http:\/\/127\.0\.0\.1:\d+\/demo\//.exec(line)?.[0];
      expect(url).toBeDefined();
      const response = await fetch(url!);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('<script type="module" src="demo.js"></script>');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('exits 2 on a bad port', () => {
    const result = runCli(['demo', '--port', 'eighty']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--port must be a positive integer/);
  });
});
