/**
 * The options that choose what a model runs on, shared by the commands that run a network:
 * `--threads N|auto` and `--simd deterministic|relaxed`. A model that cannot have what was asked
 * for runs anyway (one thread, the deterministic build) and the command says why.
 */
import type { EfficientNet } from '../efficientnet.js';
import { isSimdMode, type SimdMode } from '../runtime/simd.js';
import { integerOption, UsageError } from './args.js';

export const ENGINE_OPTIONS = {
  threads: { type: 'string' },
  simd: { type: 'string' },
} as const;

export interface EngineChoice {
  readonly threads: number | 'auto';
  readonly simd: SimdMode;
}

export function engineChoice(values: { threads?: string; simd?: string }): EngineChoice {
  const simd = values.simd ?? 'deterministic';
  if (!isSimdMode(simd)) throw new UsageError(`unknown --simd "${simd}": expected deterministic or relaxed`);
  const threads = values.threads === 'auto' ? 'auto' : integerOption(values.threads, '--threads', 1);
  return { threads, simd };
}

/** One line per request the model could not honour, saying what runs instead and why. */
export function engineFallbacks(net: EfficientNet): string[] {
  const lines: string[] = [];
  if (net.threading.reason !== undefined) lines.push(`running on one thread: ${net.threading.reason}`);
  if (net.simd.reason !== undefined) lines.push(`running the deterministic build: ${net.simd.reason}`);
  return lines;
}
