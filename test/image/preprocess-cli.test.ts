import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { preprocessCommand } from '../../src/cli/commands/preprocess.js';
import { parseNpy } from '../../src/cli/npy.js';
import { ConfigError, ImageDecodeError, ResourceLimitError } from '../../src/errors.js';
import { decodeImage } from '../../src/image/decode.js';
import { createPreprocessor, type Preprocessor } from '../../src/image/preprocess.js';
import { preprocessRecipe } from '../../src/image/recipe.js';
import { expectSameBits } from '../support/tolerance.js';
import { encodeJpeg, goldenCases, randomImage, readRepoFile, ROOT, withExifOrientation } from './support.js';

let directory: string;
let preprocessor: Preprocessor;
beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'efficientnet-preprocess-'));
  preprocessor = await createPreprocessor();
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const repoPath = (path: string): string => new URL(path, ROOT).pathname;

async function run(argv: string[]): Promise<string[]> {
  const lines: string[] = [];
  await preprocessCommand(argv, (line) => lines.push(line));
  return lines;
}

describe('efficientnet preprocess', () => {
  it('--model: writes [1, 3, S, S] float32 equal to the API\'s tensor, and says what it did', async () => {
    const out = join(directory, 'panda.npy');
    const lines = await run([repoPath('data/images/panda.jpg'), '--model', 'efficientnet_b0.ra_in1k', '--out', out]);
    const written = parseNpy(readRepoFile(out));
    expect(written.shape).toEqual([1, 3, 224, 224]);
    const recipe = preprocessRecipe('efficientnet_b0.ra_in1k');
    const expected = preprocessor.preprocess(await decodeImage(readRepoFile('data/images/panda.jpg')), recipe);
    expectSameBits(written.data, expected, 'tensor');
    expect(lines).toEqual([expect.stringMatching(/^wrote .*panda\.npy \[1, 3, 224, 224\] from .*panda\.jpg \(696x613, bicubic resize to 290x256, crop at row 16, column 33\)$/)]);
  });

  it('explicit options: --size, --crop-pct, --interpolation, --crop-mode, --mean, --std all reach the recipe', async () => {
    const squash = goldenCases().find((c) => c.recipe.cropMode === 'squash')!;
    const { size, cropPct, interpolation, cropMode } = squash.recipe;
    const mean = [0.25, 0.5, 0.75] as const;
    const std = [0.1, 0.2, 0.3] as const;
    const out = join(directory, 'explicit.npy');
    await run([
      repoPath(squash.image), '--size', String(size), '--crop-pct', String(cropPct), '--interpolation', interpolation,
      '--crop-mode', cropMode, '--mean', mean.join(','), '--std', std.join(', '), '--out', out,
    ]);
    const recipe = preprocessRecipe({ size, cropPct, interpolation, cropMode, mean, std });
    const expected = preprocessor.preprocess(await decodeImage(readRepoFile(squash.image)), recipe);
    expectSameBits(parseNpy(readRepoFile(out)).data, expected, 'tensor');
  });

  it('--test-size uses the checkpoint\'s evaluation size', async () => {
    const out = join(directory, 'test-size.npy');
    await run([repoPath('data/images/chelsea.png'), '--model', 'efficientnet_b2.ra_in1k', '--test-size', '--out', out]);
    expect(parseNpy(readRepoFile(out)).shape).toEqual([1, 3, 288, 288]);
  });

  it('turns EXIF-rotated JPEGs upright unless --no-orientation is given', async () => {
    const photo = join(directory, 'rotated.jpg');
    const jpeg = withExifOrientation(await encodeJpeg(randomImage(40, 24, 4)), 6);
    writeFileSync(photo, jpeg);
    const recipe = preprocessRecipe({ size: 16 });
    for (const applyOrientation of [true, false]) {
      const out = join(directory, `rotated-${applyOrientation}.npy`);
      await run([photo, '--size', '16', '--crop-pct', '0.875', ...(applyOrientation ? [] : ['--no-orientation']), '--out', out]);
      const expected = preprocessor.preprocess(await decodeImage(jpeg, { applyOrientation }), recipe);
      expectSameBits(parseNpy(readRepoFile(out)).data, expected, `applyOrientation ${applyOrientation}`);
    }
    const upright = parseNpy(readRepoFile(join(directory, 'rotated-true.npy'))).data;
    const stored = parseNpy(readRepoFile(join(directory, 'rotated-false.npy'))).data;
    expect(upright.some((v, i) => v !== stored[i])).toBe(true);
  });

  it('refuses bad usage with UsageError and bad values with the library\'s errors', async () => {
    const image = repoPath('data/images/chelsea.png');
    const out = join(directory, 'never.npy');
    const usage: string[][] = [
      [image, '--out', out],
      [image, '--model', 'efficientnet_b0.ra_in1k', '--size', '224', '--out', out],
      [image, '--model', 'efficientnet_b0.ra_in1k', '--mean', '0,0,0', '--out', out],
      [image, '--size', '224', '--out', out],
      [image, '--size', '224', '--crop-pct', '0.9', '--test-size', '--out', out],
      [image, '--size', '224', '--crop-pct', '0.9', '--mean', '1,2', '--out', out],
      [image, '--size', '224', '--crop-pct', '0.9', '--interpolation', 'nearest', '--out', out],
      [image, '--model', 'efficientnet_b0.ra_in1k'],
      ['--model', 'efficientnet_b0.ra_in1k', '--out', out],
      [image, image, '--model', 'efficientnet_b0.ra_in1k', '--out', out],
    ];
    for (const argv of usage) await expect(run(argv), argv.join(' ')).rejects.toThrow(UsageError);
    await expect(run([image, '--size', '224', '--crop-pct', '1.5', '--out', out])).rejects.toThrow(ConfigError);
    await expect(run([image, '--model', 'resnet50', '--out', out])).rejects.toThrow(ConfigError);
    await expect(run([repoPath('data/images/README.md'), '--model', 'efficientnet_b0.ra_in1k', '--out', out])).rejects.toThrow(ImageDecodeError);
    await expect(run([image, '--model', 'efficientnet_b0.ra_in1k', '--max-pixels', '1000', '--out', out])).rejects.toThrow(ResourceLimitError);
  });
});
