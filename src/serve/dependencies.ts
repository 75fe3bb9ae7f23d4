/**
 * The HTTP server's libraries are optional dependencies (fastify and its multipart plugin add
 * about 16 MB, prom-client 5 MB), so the core install stays lean. They are imported here, on
 * demand, only when `efficientnet serve` runs; nothing on the library's import path reaches them.
 */
import { ConfigError } from '../errors.js';

export const SERVE_PACKAGES = ['fastify', '@fastify/multipart', 'prom-client'] as const;

/** `npm install fastify @fastify/multipart prom-client` is what a user missing any of them runs. */
export class MissingServeDependencyError extends ConfigError {
  override readonly code: string = 'MISSING_DEPENDENCY';
}

export interface ServeDependencies {
  readonly fastify: typeof import('fastify').default;
  readonly multipart: typeof import('@fastify/multipart').default;
  readonly promClient: typeof import('prom-client');
}

function isMissingModule(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

export async function loadServeDependencies(): Promise<ServeDependencies> {
  try {
    const [fastify, multipart, promClient] = await Promise.all([
      import('fastify'), import('@fastify/multipart'), import('prom-client'),
    ]);
    return { fastify: fastify.default, multipart: multipart.default, promClient };
  } catch (error) {
    if (!isMissingModule(error)) throw error;
    throw new MissingServeDependencyError(
      `serving needs the optional packages ${SERVE_PACKAGES.join(', ')}; install them with: npm install ${SERVE_PACKAGES.join(' ')}`,
    );
  }
}
