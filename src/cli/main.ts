#!/usr/bin/env node
/**
 * The `efficientnet` command. Each subcommand lives in `commands/`; this file only dispatches and
 * turns errors into one readable line and an exit code (2: bad input or usage, 1: anything else).
 */
import { readFileSync } from 'node:fs';
import { EfficientNetError } from '../errors.js';
import { UsageError } from './args.js';
import { closestMatch } from './suggest.js';
import { summaryCommand, summaryUsage } from './commands/summary.js';
import { initWeightsCommand, initWeightsUsage } from './commands/init-weights.js';
import { runCommand, runUsage } from './commands/run.js';
import { benchCommand, benchUsage } from './commands/bench.js';
import { classifyCommand, classifyUsage } from './commands/classify.js';
import { exportOnnxCommand, exportOnnxUsage } from './commands/export-onnx.js';
import { preprocessCommand, preprocessUsage } from './commands/preprocess.js';
import { demoCommand, demoUsage } from './commands/demo.js';
import { diagramCommand, diagramUsage } from './commands/diagram.js';
import { serveCommand, serveUsage } from './commands/serve.js';
import { embedCommand, embedUsage } from './commands/embed.js';
import { mergeCommand, mergeUsage } from './commands/merge.js';
import { inspectCommand, inspectUsage } from './commands/inspect.js';
import { convertCommand, convertUsage } from './commands/convert.js';

/** A command may return its exit status (e.g. `embed`'s "done, but files were skipped"); otherwise 0. */
type Command = (argv: string[], out: (line: string) => void) => void | number | Promise<void | number>;

const COMMANDS: Record<string, { run: Command; usage: string; summary: string }> = {
  classify: { run: classifyCommand, usage: classifyUsage, summary: 'top-k ImageNet classes of photos (files or directories)' },
  preprocess: { run: preprocessCommand, usage: preprocessUsage, summary: 'an image through a checkpoint\'s eval transform to an NCHW .npy' },
  summary: { run: summaryCommand, usage: summaryUsage, summary: 'the network layer by layer: shapes, parameters, multiply-adds, memory' },
  'init-weights': { run: initWeightsCommand, usage: initWeightsUsage, summary: 'write deterministic synthetic weights with timm tensor names' },
  run: { run: runCommand, usage: runUsage, summary: 'run the network on a .npy tensor and write logits and features' },
  bench: { run: benchCommand, usage: benchUsage, summary: 'median end-to-end latency on synthetic weights' },
  inspect: { run: inspectCommand, usage: inspectUsage, summary: 'what a weights file is: format, name scheme, variant, classes, tensors' },
  convert: { run: convertCommand, usage: convertUsage, summary: 'any supported weights file to timm-named safetensors (F32, F16 or BF16)' },
  'export-onnx': { run: exportOnnxCommand, usage: exportOnnxUsage, summary: 'write the network and its weights as an ONNX model (BN folded)' },
  demo: { run: demoCommand, usage: demoUsage, summary: 'serve the browser demo page on this machine' },
  embed: { run: embedCommand, usage: embedUsage, summary: 'embed a folder tree or list of photos into one .npy matrix: streamed, resumable, shardable' },
  merge: { run: mergeCommand, usage: mergeUsage, summary: 'join the output directories of embed --shard I/N into one single-run result' },
  diagram: { run: diagramCommand, usage: diagramUsage, summary: 'draw the compound scaling of the family, one network, or the steps inside its blocks, as SVG' },
  serve: { run: serveCommand, usage: serveUsage, summary: 'classify and embed images over HTTP, with dynamic batching and a graceful drain' },
};

/** The installed package's version: its package.json sits two levels above this file in src/ and dist/ alike. */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${manifest.name} ${manifest.version}`;
}

function help(): string {
  const lines = [
    'usage: efficientnet <command> [options]   (add --verbose to any command for stack traces)',
    '       efficientnet --version', '', 'commands:',
  ];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(14)}${c.summary}`, `    ${c.usage}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const args = argv.filter((a) => a !== '--verbose');
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(version());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    const guess = closestMatch(name, Object.keys(COMMANDS));
    const hint = guess === null ? '' : ` (did you mean "${guess}"?)`;
    console.error(`efficientnet: unknown command "${name}"${hint}; commands: ${Object.keys(COMMANDS).join(', ')} (efficientnet --help shows their options)`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${command.usage}`);
    return 0;
  }
  try {
    const status = await command.run(rest, (line) => console.log(line));
    return typeof status === 'number' ? status : 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`efficientnet ${name}: ${message}`);
    if (error instanceof UsageError) console.error(`usage: ${command.usage}`);
    if (verbose && error instanceof Error && error.stack) console.error(error.stack);
    return error instanceof EfficientNetError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
