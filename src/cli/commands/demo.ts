/**
 * `efficientnet demo`: serves the browser demo page (demo/) over HTTP on the loopback address.
 *
 * The server hands out only the package's own files that a browser needs (the page, the compiled
 * library, the core's .wasm and the example photos) plus the two image codec packages the library
 * imports, which the page's import map points at /node_modules/@jsquash/. URLs mirror the package
 * layout, so the library's `new URL('../../build/efficientnet.wasm', import.meta.url)` resolves
 * here exactly as it does on disk. Every response carries COOP and COEP headers, so the page is
 * cross-origin isolated (SharedArrayBuffer, worker pools).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.js';
import { integerOption, parseOptions } from '../args.js';

export const demoUsage = 'efficientnet demo [--port P] [--host 127.0.0.1]';

const DEFAULT_PORT = 8080;
/** Loopback only unless asked: the demo is for the person at this machine. */
const DEFAULT_HOST = '127.0.0.1';

/** src/cli/commands/ and dist/cli/commands/ are both three levels below the package root. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

/** Sent with every response. COOP + COEP make the page cross-origin isolated; all its files are same-origin. */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

/** A URL prefix served from one directory (its real path, symlinks resolved). */
interface Mount {
  readonly prefix: string;
  readonly directory: string;
}

/** The directory of an installed dependency, wherever npm put it (nested or hoisted). */
function dependencyDirectory(specifier: string, entry: string): string {
  return dirname(createRequire(import.meta.url).resolve(`${specifier}/${entry}`));
}

async function packageMounts(): Promise<Mount[]> {
  const mounts: Array<[string, string]> = [
    ['/demo/', join(PACKAGE_ROOT, 'demo')],
    ['/dist/', join(PACKAGE_ROOT, 'dist')],
    ['/build/', join(PACKAGE_ROOT, 'build')],
    ['/data/', join(PACKAGE_ROOT, 'data')],
    ['/node_modules/@jsquash/jpeg/', dependencyDirectory('@jsquash/jpeg', 'decode.js')],
    ['/node_modules/@jsquash/png/', dependencyDirectory('@jsquash/png', 'decode.js')],
  ];
  for (const file of ['demo/index.html', 'dist/index.js', 'build/efficientnet.wasm']) {
    try {
      await stat(join(PACKAGE_ROOT, file));
    } catch {
      throw new ConfigError(`the demo needs ${file} in ${PACKAGE_ROOT}; run \`npm run build\` first`);
    }
  }
  return Promise.all(mounts.map(async ([prefix, directory]) => ({ prefix, directory: await realpath(directory) })));
}

/** Inside `directory` (or it), after resolving `..`: the traversal check on real paths. */
function isWithin(directory: string, path: string): boolean {
  const rest = relative(directory, path);
  return rest === '' || (!rest.startsWith('..') && !isAbsolute(rest));
}

/**
 * The file a URL path names, or null. Refused before touching the disk: undecodable escapes,
 * NUL and backslashes, `.` and `..` segments (also percent-encoded ones), hidden files, and
 * anything outside the mounts. Then symlinks are resolved and the real path checked again.
 */
async function resolveFile(mounts: readonly Mount[], pathname: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.split('/').some((segment) => segment.startsWith('.'))) return null;
  const mount = mounts.find((m) => decoded.startsWith(m.prefix));
  if (!mount) return null;
  let path = join(mount.directory, decoded.slice(mount.prefix.length));
  if (!isWithin(mount.directory, path)) return null;
  try {
    path = await realpath(path);
    if ((await stat(path)).isDirectory()) path = await realpath(join(path, 'index.html'));
    if (!(await stat(path)).isFile()) return null;
  } catch {
    return null;
  }
  return isWithin(mount.directory, path) ? path : null;
}

function sendText(response: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  response.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
  response.end(text);
}

async function handle(mounts: readonly Mount[], request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendText(response, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  // Only the path matters; the base is a placeholder for parsing a request target.
  const { pathname } = new URL(request.url ?? '/', 'http://localhost');
  if (pathname === '/' || pathname === '/demo') {
    sendText(response, 302, 'see /demo/\n', { Location: '/demo/' });
    return;
  }
  const file = await resolveFile(mounts, pathname);
  if (file === null) {
    sendText(response, 404, 'not found\n');
    return;
  }
  const body = await readFile(file);
  response.writeHead(200, {
    ...COMMON_HEADERS,
    'Content-Type': MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(body.length),
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

export interface DemoServerOptions {
  /** 0 picks a free port. Default 8080. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
}

export interface DemoServer {
  /** Base URL, e.g. `http://127.0.0.1:8080/`; the page is at `demo/` under it. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts serving the demo; resolves once the server listens. */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const mounts = await packageMounts();
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  const server = createServer((request, response) => {
    handle(mounts, request, response).catch((error: unknown) => {
      if (!response.headersSent) sendText(response, 500, `${error instanceof Error ? error.message : String(error)}\n`);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new ConfigError(`port ${port} on ${host} is already in use; pick another with --port`)
        : new ConfigError(`cannot listen on ${host}:${port}: ${error.message}`));
    });
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostInUrl}:${address.port}/`,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }),
  };
}

/** Serves until the process is stopped (Ctrl-C): the listening server keeps Node running. */
export async function demoCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseOptions(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
  });
  // --port 0 asks the system for a free port, so it is allowed here unlike other integer options.
  const port = values.port === '0' ? 0 : integerOption(values.port, '--port', DEFAULT_PORT);
  if (port > 65535) throw new ConfigError(`--port must be at most 65535, got ${port}`);
  const server = await startDemoServer({ port, host: values.host ?? DEFAULT_HOST });
  out(`EfficientNet demo at ${server.url}demo/  (Ctrl-C to stop)`);
}
