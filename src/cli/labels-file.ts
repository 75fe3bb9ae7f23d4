/**
 * `--labels FILE`: the class names of a fine-tuned model, one per line (a trailing newline and
 * Windows line ends are fine), or a JSON array of strings when the file name ends in `.json`.
 * Whether there is one label per class is the library's check (`EfficientNet.create`'s `labels`).
 */
import { extname } from 'node:path';
import { ConfigError } from '../errors.js';
import { readInputFile } from './files.js';

export const LABELS_OPTION = { labels: { type: 'string' } } as const;

/** The labels `--labels` names, or undefined when it was not given. */
export function readLabelsOption(path: string | undefined): string[] | undefined {
  return path === undefined ? undefined : readLabelsFile(path);
}

export function readLabelsFile(path: string): string[] {
  const bytes = readInputFile(path, 'labels file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(`labels file "${path}" is not UTF-8 text`);
  }
  return extname(path).toLowerCase() === '.json' ? parseJsonLabels(text, path) : parseLineLabels(text, path);
}

function parseJsonLabels(text: string, path: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`labels file "${path}" is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new ConfigError(`labels file "${path}" must hold a JSON array of strings, one per class`);
  const notString = value.findIndex((label) => typeof label !== 'string');
  if (notString !== -1) throw new ConfigError(`labels file "${path}": entry ${notString} is not a string`);
  return value as string[];
}

function parseLineLabels(text: string, path: string): string[] {
  // A byte-order mark (as some Windows editors write) is not part of the first label.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  // An empty line is almost always a stray blank rather than a class named "": say where it is.
  const blank = lines.findIndex((line) => line.trim() === '');
  if (blank !== -1) throw new ConfigError(`labels file "${path}": line ${blank + 1} is empty (give one label per line, no blank lines)`);
  return lines;
}
