/**
 * `efficientnet preprocess`: an image file to the normalised NCHW float32 `.npy` a checkpoint
 * expects, computed as timm's eval transform with Pillow computes it.
 */
import type { CropMode, Interpolation } from '../../arch/presets.js';
import { decodeImage } from '../../image/decode.js';
import { createPreprocessor } from '../../image/preprocess.js';
import { planResize, preprocessRecipe, type PreprocessRecipe, type Rgb } from '../../image/recipe.js';
import { integerOption, numberOption, parseOptions, requireOption, UsageError } from '../args.js';
import { readInputFile, writeOutputFile } from '../files.js';
import { encodeNpy } from '../npy.js';

export const preprocessUsage =
  'efficientnet preprocess IMAGE (--model M [--test-size] | --size S --crop-pct C [--interpolation bicubic|bilinear] ' +
  '[--crop-mode center|squash] [--mean a,b,c] [--std a,b,c]) [--no-orientation] [--max-pixels N] --out x.npy';

/** Options that describe a recipe by hand; none of them may be mixed with --model. */
const EXPLICIT_FLAGS = ['size', 'crop-pct', 'interpolation', 'crop-mode', 'mean', 'std'] as const;

function rgbOption(value: string | undefined, flag: string): Rgb | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v))) {
    throw new UsageError(`${flag} must be three comma-separated numbers (R,G,B), got "${value}"`);
  }
  return [parts[0], parts[1], parts[2]];
}

function choiceOption<T extends string>(value: string | undefined, flag: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}

export async function preprocessCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseOptions(argv, {
    model: { type: 'string' },
    'test-size': { type: 'boolean', default: false },
    size: { type: 'string' },
    'crop-pct': { type: 'string' },
    interpolation: { type: 'string' },
    'crop-mode': { type: 'string' },
    mean: { type: 'string' },
    std: { type: 'string' },
    'no-orientation': { type: 'boolean', default: false },
    'max-pixels': { type: 'string' },
    out: { type: 'string' },
  }, true);
  if (positionals.length !== 1) throw new UsageError(`give exactly one IMAGE file, got ${positionals.length}`);
  const [imagePath] = positionals;
  const outPath = requireOption(values.out, '--out');
  const explicit = EXPLICIT_FLAGS.filter((flag) => values[flag] !== undefined);
  if ((values.model === undefined) === (values.size === undefined)) throw new UsageError('give exactly one of --model or --size');
  let recipe: PreprocessRecipe;
  if (values.model !== undefined) {
    if (explicit.length > 0) throw new UsageError(`--model sets the whole recipe; drop ${explicit.map((f) => `--${f}`).join(', ')}`);
    recipe = preprocessRecipe(values.model, { useTestSize: values['test-size'] });
  } else {
    if (values['test-size']) throw new UsageError('--test-size needs --model');
    recipe = preprocessRecipe({
      size: integerOption(values.size, '--size', 0),
      cropPct: requireOption(numberOption(values['crop-pct'], '--crop-pct'), '--crop-pct'),
      interpolation: choiceOption<Interpolation>(values.interpolation, '--interpolation', ['bicubic', 'bilinear']),
      cropMode: choiceOption<CropMode>(values['crop-mode'], '--crop-mode', ['center', 'squash']),
      mean: rgbOption(values.mean, '--mean'),
      std: rgbOption(values.std, '--std'),
    });
  }
  const image = await decodeImage(readInputFile(imagePath, 'image'), {
    applyOrientation: !values['no-orientation'],
    maxPixels: values['max-pixels'] === undefined ? undefined : integerOption(values['max-pixels'], '--max-pixels', 0),
  });
  const preprocessor = await createPreprocessor();
  const tensor = preprocessor.preprocess(image, recipe); // [3, size, size]
  writeOutputFile(outPath, encodeNpy(tensor, [1, 3, recipe.size, recipe.size]));
  const plan = planResize(image.width, image.height, recipe);
  out(
    `wrote ${outPath} [1, 3, ${recipe.size}, ${recipe.size}] from ${imagePath} (${image.width}x${image.height}, ` +
    `${recipe.interpolation} resize to ${plan.resizeWidth}x${plan.resizeHeight}, crop at row ${plan.cropTop}, column ${plan.cropLeft})`,
  );
}
