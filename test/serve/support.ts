/**
 * Starts the built CLI's `serve` command in a child process on a free loopback port, as a user
 * (or a container) would, and talks to it over real sockets.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import type { RgbImage } from '../../src/image/decode.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export const SERVE_MODEL = 'tf_efficientnet_b0.ns_jft_in1k';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Everything the process printed so far, stdout then stderr. */
  output(): string;
  /** Resolves with the exit code once the process ends. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** How the server's Node process is started, beyond the serve command's own options. */
export interface Launch {
  /** Node options before the script, e.g. `--import` of a fixture. */
  readonly nodeArgs?: readonly string[];
  /** Variables added to the environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts `efficientnet serve --model SERVE_MODEL --random-weights --port 0` plus `args` (without
 * the `--model` when `args` give a `--variant`) and waits until it is ready, or with
 * `untilReady: false` only until it listens (the model still loading).
 */
export async function startServer(args: readonly string[] = [], untilReady = true, launch: Launch = {}): Promise<RunningServer> {
  const model = args.includes('--variant') ? [] : ['--model', SERVE_MODEL];
  const child = spawn(process.execPath, [...(launch.nodeArgs ?? []), MAIN, 'serve', ...model, '--random-weights', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...launch.env },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const address = /listening on (http:\/\/\S+)/.exec(stdout);
      if (address && (!untilReady || /^ready: /m.test(stdout))) resolve(address[1]);
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code} before it was ready:\n${stdout}${stderr}`)));
  });
  return {
    url,
    port: Number(new URL(url).port),
    child,
    output: () => stdout + stderr,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The value of a metric line such as `efficientnet_images_total 12` (labels included in `name`). */
export async function metric(server: RunningServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no metric ${name} in:\n${text}`);
  return Number(line.slice(name.length + 1));
}

/** Polls `check` every 20 ms until it is true, failing after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface PostResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/** POSTs image bytes as the raw body. */
export async function postImage(
  server: RunningServer, route: string, bytes: Uint8Array, type = 'image/jpeg', accept = 'application/json',
): Promise<PostResult> {
  const response = await fetch(`${server.url}${route}`, { method: 'POST', body: Buffer.from(bytes), headers: { 'content-type': type, accept } });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** POSTs images as files of one multipart form, in order. */
export async function postForm(server: RunningServer, route: string, files: readonly Uint8Array[]): Promise<PostResult> {
  const form = new FormData();
  files.forEach((bytes, i) => form.append('image', new Blob([Buffer.from(bytes)]), `image-${i}`));
  const response = await fetch(`${server.url}${route}`, { method: 'POST', body: form });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** A raw TCP connection to the server, for uploads cut short or stalled on purpose. */
export function openSocket(server: RunningServer): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends on `socket` until it closes it (or `timeoutMs` passes: then null). */
export function readUntilClosed(socket: Socket, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve(null), timeoutMs);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

/** An 8-bit RGB PNG, filter type 0 on every row: the simplest valid encoding. */
export function encodePng(image: RgbImage): Uint8Array {
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length); // [length, type, data, CRC]
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13); // [width, height, depth 8, colour type 2 (RGB), 0, 0, 0]
  header.writeUInt32BE(image.width, 0);
  header.writeUInt32BE(image.height, 4);
  header[8] = 8;
  header[9] = 2;
  const rows = Buffer.alloc(image.height * (1 + image.width * 3)); // [height, filter byte + width * 3]
  for (let y = 0; y < image.height; y++) rows.set(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3), y * (1 + image.width * 3) + 1);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', new Uint8Array(0))]));
}
