/**
 * The preprocessing recipe (timm's eval transform) and its geometry for one image size.
 *
 * timm evaluates a checkpoint with: Resize to `scale = floor(size / cropPct)` (the shorter side,
 * keeping the aspect ratio, in `center` mode; both sides in `squash` mode), CenterCrop(size),
 * ToTensor (bytes / 255), Normalize(mean, std). The resize and crop sizes follow torchvision's
 * integer rules exactly, because one pixel of shift changes every value of the crop.
 */
import { findPreset, type CheckpointPreset, type CropMode, type Interpolation } from '../arch/presets.js';
import { ConfigError, ResourceLimitError } from '../errors.js';

export type Rgb = readonly [number, number, number];

export interface PreprocessRecipe {
  /** Side of the square output, in pixels. */
  readonly size: number;
  /** Fraction of the resized image the centre crop keeps: the resize target is floor(size / cropPct). */
  readonly cropPct: number;
  readonly interpolation: Interpolation;
  readonly cropMode: CropMode;
  /** Per-channel RGB mean subtracted after scaling bytes to [0, 1]. */
  readonly mean: Rgb;
  /** Per-channel RGB standard deviation divided by after subtracting the mean. */
  readonly std: Rgb;
}

/** A recipe by hand; what is left out takes timm's EfficientNet defaults. */
export interface RecipeOptions {
  readonly size: number;
  /** Default 0.875, timm's DEFAULT_CROP_PCT. */
  readonly cropPct?: number;
  /** Default 'bicubic', as every EfficientNet checkpoint in timm. */
  readonly interpolation?: Interpolation;
  /** Default 'center', timm's default. */
  readonly cropMode?: CropMode;
  /** Default ImageNet's (0.485, 0.456, 0.406). */
  readonly mean?: Rgb;
  /** Default ImageNet's (0.229, 0.224, 0.225). */
  readonly std?: Rgb;
}

export interface PresetRecipeOptions {
  /**
   * Use the checkpoint's `testInputSize` / `testCropPct` where it records them. timm uses them
   * only when asked (`use_test_size`), so the default is the training size, as timm's.
   */
  readonly useTestSize?: boolean;
}

const DEFAULT_CROP_PCT = 0.875;
const IMAGENET_MEAN: Rgb = [0.485, 0.456, 0.406];
const IMAGENET_STD: Rgb = [0.229, 0.224, 0.225];
const INTERPOLATIONS: readonly Interpolation[] = ['bicubic', 'bilinear'];
const CROP_MODES: readonly CropMode[] = ['center', 'squash'];

function isPreset(source: CheckpointPreset | RecipeOptions): source is CheckpointPreset {
  return 'inputSize' in source;
}

function checkRgb(values: Rgb, what: string, positive: boolean): Rgb {
  if (!Array.isArray(values) || values.length !== 3 || values.some((v) => typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0))) {
    throw new ConfigError(`${what} must be three finite numbers${positive ? ' above 0' : ''}, got ${JSON.stringify(values)}`);
  }
  return Object.freeze([values[0], values[1], values[2]]) as Rgb;
}

function checkedRecipe(recipe: PreprocessRecipe): PreprocessRecipe {
  const { size, cropPct, interpolation, cropMode } = recipe;
  if (!Number.isInteger(size) || size < 1) throw new ConfigError(`size must be a positive integer, got ${size}`);
  // Above 1 the resized image is smaller than the crop and torchvision would pad it with black.
  if (typeof cropPct !== 'number' || !(cropPct > 0 && cropPct <= 1)) {
    throw new ConfigError(`cropPct must be in (0, 1], got ${cropPct}`);
  }
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new ConfigError(`interpolation must be one of ${INTERPOLATIONS.join(', ')}, got "${interpolation}"`);
  }
  if (!CROP_MODES.includes(cropMode)) throw new ConfigError(`cropMode must be one of ${CROP_MODES.join(', ')}, got "${cropMode}"`);
  return Object.freeze({
    size, cropPct, interpolation, cropMode,
    mean: checkRgb(recipe.mean, 'mean', false),
    std: checkRgb(recipe.std, 'std', true),
  });
}

/**
 * The recipe for a checkpoint (a preset, or its name as `findPreset` accepts it) or for
 * explicit options. Throws ConfigError for an unknown name or an unusable value.
 */
export function preprocessRecipe(source: string | CheckpointPreset | RecipeOptions, options: PresetRecipeOptions = {}): PreprocessRecipe {
  if (typeof source === 'string' || isPreset(source)) {
    const preset = typeof source === 'string' ? findPreset(source) : source;
    const test = options.useTestSize === true && preset.testInputSize !== undefined;
    return checkedRecipe({
      size: test ? preset.testInputSize! : preset.inputSize,
      cropPct: test ? preset.testCropPct ?? preset.cropPct : preset.cropPct,
      interpolation: preset.interpolation,
      cropMode: preset.cropMode ?? 'center',
      mean: preset.mean,
      std: preset.std,
    });
  }
  return checkedRecipe({
    size: source.size,
    cropPct: source.cropPct ?? DEFAULT_CROP_PCT,
    interpolation: source.interpolation ?? 'bicubic',
    cropMode: source.cropMode ?? 'center',
    mean: source.mean ?? IMAGENET_MEAN,
    std: source.std ?? IMAGENET_STD,
  });
}

/** Where one image goes: the full resize, then the square crop of it that is kept. */
export interface ResizePlan {
  readonly resizeWidth: number;
  readonly resizeHeight: number;
  /** First kept row and column of the resized image. */
  readonly cropTop: number;
  readonly cropLeft: number;
  /** Side of the kept square (the recipe's size). */
  readonly size: number;
}

/** Python's round() on a multiple of one half: ties go to the even neighbour. */
function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  if (x - floor !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The resize kernels index with 32-bit integers. */
const MAX_RESIZED_SIDE = 2 ** 31 - 1;

/** torchvision's Resize and CenterCrop geometry for a `width` x `height` image. */
export function planResize(width: number, height: number, recipe: PreprocessRecipe): ResizePlan {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ConfigError(`image size must be positive integers, got ${width}x${height}`);
  }
  const { size } = recipe;
  const scale = Math.floor(size / recipe.cropPct);
  let resizeWidth = scale;
  let resizeHeight = scale;
  if (recipe.cropMode === 'center') {
    // The short side becomes `scale`; the long side is truncated, as Python's int() does.
    if (width <= height) resizeHeight = Math.trunc((scale * height) / width);
    else resizeWidth = Math.trunc((scale * width) / height);
  }
  if (resizeWidth > MAX_RESIZED_SIDE || resizeHeight > MAX_RESIZED_SIDE) {
    throw new ResourceLimitError(
      `a ${width}x${height} image resized to a short side of ${scale} would be ${resizeWidth}x${resizeHeight}, ` +
      `beyond the ${MAX_RESIZED_SIDE}-pixel side the resize supports; crop the image closer to square first`,
    );
  }
  return {
    resizeWidth,
    resizeHeight,
    cropTop: roundHalfToEven((resizeHeight - size) / 2),
    cropLeft: roundHalfToEven((resizeWidth - size) / 2),
    size,
  };
}
