/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core,
 * with a fresh profile in a temporary directory. No browser is ever downloaded; when Chromium is
 * missing the tests fail and say how to install it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startDemoServer, type DemoServer } from '../../src/cli/commands/demo.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Quiet, offline-friendly flags: no GPU, sandbox (root in CI), first-run UI or background traffic. */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic',
];

export interface Browser {
  readonly context: BrowserContext;
  /** A new tab that records uncaught page errors and console errors into `errors`. */
  newPage(): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the browser tests need Debian's chromium package ` +
      '(apt-get install -y chromium; .ci/run installs it). Playwright-downloaded browsers are not used.',
    );
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'efficientnet-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
      });
      return { page, errors };
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * JavaScript source of `(length, seed) => Float32Array`, evaluated from this very text in Node and
 * in the page, so both sides build the same input. Integer hashing (Math.imul, shifts) is exact
 * in every engine; `h / 2^32` and the scaling by 4 are exact in doubles; the one rounding, double
 * to float32 on the store, is IEEE round-to-nearest-even everywhere. Values lie in [-2, 2).
 */
export const DETERMINISTIC_INPUT_SOURCE = `(length, seed) => {
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let h = Math.imul(i ^ seed, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca77);
    h ^= h >>> 13;
    values[i] = ((h >>> 0) / 4294967296) * 4 - 2;
  }
  return values;
}`;

export const deterministicInput = new Function(`return ${DETERMINISTIC_INPUT_SOURCE};`)() as (length: number, seed: number) => Float32Array;

/** A test file's demo server and Chromium, started before its tests and closed after them. */
export interface DemoSession {
  readonly server: DemoServer;
  readonly browser: Browser;
  /** A new page on the demo, with the page's console errors collected. */
  openDemoPage(): Promise<{ page: Page; errors: string[] }>;
}

export function useDemoInChromium(): DemoSession {
  let server: DemoServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startDemoServer({ port: 0 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get server() {
      return server!;
    },
    get browser() {
      return browser!;
    },
    async openDemoPage() {
      const opened = await browser!.newPage();
      await opened.page.goto(`${server!.url}demo/`);
      return opened;
    },
  };
}
