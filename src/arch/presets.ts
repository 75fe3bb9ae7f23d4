/**
 * Checkpoint presets: how each pretrained timm EfficientNet checkpoint on the Hugging Face hub
 * expects to be run. A checkpoint fixes more than its variant: the padding rule and BN epsilon it
 * was trained with, and the preprocessing (resize, crop, normalisation) its accuracy was measured
 * with. Getting any of these wrong still produces plausible-looking but worse predictions, so they
 * travel together as one record.
 *
 * Every value was read from timm's `timm/models/efficientnet.py` (the `_cfg` defaults and the
 * `default_cfgs = generate_default_cfgs({...})` table) and `timm/data/constants.py`. Rows keep
 * timm's listing order, because timm's default tag for a bare architecture name is the first
 * listed tag that has weights (every tag here has weights).
 */
import { ConfigError } from '../errors.js';
import type { PaddingMode } from './padding.js';
import { KERAS_PRESETS } from './presets-keras.js';
import { TORCHVISION_PRESETS } from './presets-torchvision.js';
import type { VariantName } from './variants.js';

export type Interpolation = 'bicubic' | 'bilinear';
/**
 * With `scale = floor(inputSize / cropPct)`, both modes end in an `inputSize` centre crop. `center`
 * first resizes the short side to `scale`, keeping the aspect ratio; `squash` resizes both sides
 * to `scale`, giving up the aspect ratio so that at cropPct 1 nothing is cut off.
 */
export type CropMode = 'center' | 'squash';

export interface CheckpointPreset {
  /** Full timm name, `architecture.tag`, e.g. `tf_efficientnet_b0.ns_jft_in1k`. */
  readonly name: string;
  readonly variant: VariantName;
  readonly padding: PaddingMode;
  readonly bnEps: number;
  /** Square side in pixels the checkpoint was trained and, unless `testInputSize` is set, evaluated at. */
  readonly inputSize: number;
  /** Square side timm evaluates at when it differs from `inputSize`. */
  readonly testInputSize?: number;
  /** Fraction of the resized image kept by the centre crop at `inputSize`. */
  readonly cropPct: number;
  /** Crop fraction timm uses at `testInputSize`; present only when timm records one. */
  readonly testCropPct?: number;
  /** Every preset here sets it; absent (in a hand-made preset) means `center`, timm's default. */
  readonly cropMode?: CropMode;
  readonly interpolation: Interpolation;
  /** Per-channel RGB mean subtracted after scaling pixels to [0, 1]. */
  readonly mean: [number, number, number];
  /** Per-channel RGB standard deviation divided by after subtracting `mean`. */
  readonly std: [number, number, number];
  readonly numClasses: number;
  /** Hugging Face hub repository holding the weights; absent for checkpoints published elsewhere (`weightsUrl`). */
  readonly hubId?: string;
  /** Where to download the weights when they are not on the Hugging Face hub (Keras's `.h5` files). */
  readonly weightsUrl?: string;
  /** Licence id of the weights as timm and the hub record it. */
  readonly license?: string;
}

type Rgb = [number, number, number];

/** timm IMAGENET_DEFAULT_MEAN / IMAGENET_DEFAULT_STD (timm/data/constants.py). */
const IMAGENET_MEAN: Rgb = [0.485, 0.456, 0.406];
const IMAGENET_STD: Rgb = [0.229, 0.224, 0.225];
/** timm IMAGENET_INCEPTION_MEAN / _STD: maps [0, 1] to [-1, 1]; used by AdvProp (`ap_*`) and `ra4_*` weights. */
const INCEPTION = { mean: [0.5, 0.5, 0.5] as Rgb, std: [0.5, 0.5, 0.5] as Rgb };

/** What a row must state; everything else is timm's `_cfg` default or follows from the family. */
type PresetRow = Pick<CheckpointPreset, 'name' | 'variant' | 'inputSize' | 'cropPct'> &
  Partial<Pick<CheckpointPreset, 'testInputSize' | 'testCropPct' | 'cropMode' | 'interpolation' | 'mean' | 'std' | 'numClasses'>>;

/** timm's organisation on the hub; each checkpoint lives in `timm/<architecture>.<tag>`. */
const HUB_PREFIX = 'timm/';

/** The two checkpoint families differ in how their convolutions pad and in their BN epsilon. */
interface Family {
  readonly padding: PaddingMode;
  readonly bnEps: number;
}
/** `tf_efficientnet_*`: weights ported from TensorFlow; timm sets pad_type 'same' and BN_EPS_TF_DEFAULT. */
const TENSORFLOW_PORT: Family = { padding: 'same', bnEps: 1e-3 };
/** `efficientnet_*`: weights trained in PyTorch by timm; default padding and nn.BatchNorm2d's eps. */
const PYTORCH_TRAINED: Family = { padding: 'symmetric', bnEps: 1e-5 };

/**
 * Fills a row with timm's `_cfg` defaults (1000 classes, bicubic, ImageNet mean/std, apache-2.0)
 * and freezes it, arrays included, so no caller can change a preset for everyone else.
 */
function preset(family: Family, row: PresetRow): CheckpointPreset {
  const mean = Object.freeze([...(row.mean ?? IMAGENET_MEAN)]) as Rgb;
  const std = Object.freeze([...(row.std ?? IMAGENET_STD)]) as Rgb;
  return Object.freeze({
    ...family,
    cropMode: 'center',
    interpolation: 'bicubic',
    numClasses: 1000,
    hubId: `${HUB_PREFIX}${row.name}`,
    license: 'apache-2.0',
    ...row,
    mean,
    std,
  });
}

const tf = (row: PresetRow): CheckpointPreset => preset(TENSORFLOW_PORT, row);
const pt = (row: PresetRow): CheckpointPreset => preset(PYTORCH_TRAINED, row);

/*
 * Left out: every `.untrained` entry (`efficientnet_b6`..`b8`, `efficientnet_l2`), which have no weights.
 */
export const PRESETS: readonly CheckpointPreset[] = Object.freeze([
  pt({ name: 'efficientnet_b0.ra_in1k', variant: 'b0', inputSize: 224, cropPct: 0.875 }),
  pt({ name: 'efficientnet_b0.ra4_e3600_r224_in1k', variant: 'b0', inputSize: 224, cropPct: 0.9,
    testInputSize: 256, testCropPct: 1.0, ...INCEPTION }),
  pt({ name: 'efficientnet_b1.ra4_e3600_r240_in1k', variant: 'b1', inputSize: 240, cropPct: 0.9,
    testInputSize: 288, testCropPct: 1.0, ...INCEPTION }),
  pt({ name: 'efficientnet_b1.ft_in1k', variant: 'b1', inputSize: 224, cropPct: 0.875, testInputSize: 256, testCropPct: 1.0 }),
  pt({ name: 'efficientnet_b2.ra_in1k', variant: 'b2', inputSize: 256, cropPct: 0.875, testInputSize: 288, testCropPct: 1.0 }),
  pt({ name: 'efficientnet_b3.ra2_in1k', variant: 'b3', inputSize: 288, cropPct: 0.875, testInputSize: 320, testCropPct: 1.0 }),
  pt({ name: 'efficientnet_b4.ra2_in1k', variant: 'b4', inputSize: 320, cropPct: 0.875, testInputSize: 384, testCropPct: 1.0 }),
  pt({ name: 'efficientnet_b5.sw_in12k_ft_in1k', variant: 'b5', inputSize: 448, cropPct: 1.0, cropMode: 'squash' }),
  // ImageNet-12k (11,821 classes, labelled by index here): a strong encoder for embed and features.
  pt({ name: 'efficientnet_b5.sw_in12k', variant: 'b5', inputSize: 416, cropPct: 0.95, numClasses: 11821 }),

  // Noisy Student (JFT pseudo-labels).
  tf({ name: 'tf_efficientnet_b0.ns_jft_in1k', variant: 'b0', inputSize: 224, cropPct: 0.875 }),
  tf({ name: 'tf_efficientnet_b1.ns_jft_in1k', variant: 'b1', inputSize: 240, cropPct: 0.882 }),
  tf({ name: 'tf_efficientnet_b2.ns_jft_in1k', variant: 'b2', inputSize: 260, cropPct: 0.89 }),
  tf({ name: 'tf_efficientnet_b3.ns_jft_in1k', variant: 'b3', inputSize: 300, cropPct: 0.904 }),
  tf({ name: 'tf_efficientnet_b4.ns_jft_in1k', variant: 'b4', inputSize: 380, cropPct: 0.922 }),
  tf({ name: 'tf_efficientnet_b5.ns_jft_in1k', variant: 'b5', inputSize: 456, cropPct: 0.934 }),
  tf({ name: 'tf_efficientnet_b6.ns_jft_in1k', variant: 'b6', inputSize: 528, cropPct: 0.942 }),
  tf({ name: 'tf_efficientnet_b7.ns_jft_in1k', variant: 'b7', inputSize: 600, cropPct: 0.949 }),
  tf({ name: 'tf_efficientnet_l2.ns_jft_in1k_475', variant: 'l2', inputSize: 475, cropPct: 0.936 }),
  tf({ name: 'tf_efficientnet_l2.ns_jft_in1k', variant: 'l2', inputSize: 800, cropPct: 0.96 }),

  // AdvProp: trained on inputs scaled to [-1, 1], hence the Inception mean/std.
  tf({ name: 'tf_efficientnet_b0.ap_in1k', variant: 'b0', inputSize: 224, cropPct: 0.875, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_b1.ap_in1k', variant: 'b1', inputSize: 240, cropPct: 0.882, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_b2.ap_in1k', variant: 'b2', inputSize: 260, cropPct: 0.89, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_b3.ap_in1k', variant: 'b3', inputSize: 300, cropPct: 0.904, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_b4.ap_in1k', variant: 'b4', inputSize: 380, cropPct: 0.922, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_b5.ap_in1k', variant: 'b5', inputSize: 456, cropPct: 0.934, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_b6.ap_in1k', variant: 'b6', inputSize: 528, cropPct: 0.942, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_b7.ap_in1k', variant: 'b7', inputSize: 600, cropPct: 0.949, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_b8.ap_in1k', variant: 'b8', inputSize: 672, cropPct: 0.954, ...INCEPTION }),

  // RandAugment.
  tf({ name: 'tf_efficientnet_b5.ra_in1k', variant: 'b5', inputSize: 456, cropPct: 0.934 }),
  tf({ name: 'tf_efficientnet_b7.ra_in1k', variant: 'b7', inputSize: 600, cropPct: 0.949 }),
  tf({ name: 'tf_efficientnet_b8.ra_in1k', variant: 'b8', inputSize: 672, cropPct: 0.954 }),

  // AutoAugment.
  tf({ name: 'tf_efficientnet_b0.aa_in1k', variant: 'b0', inputSize: 224, cropPct: 0.875 }),
  tf({ name: 'tf_efficientnet_b1.aa_in1k', variant: 'b1', inputSize: 240, cropPct: 0.882 }),
  tf({ name: 'tf_efficientnet_b2.aa_in1k', variant: 'b2', inputSize: 260, cropPct: 0.89 }),
  tf({ name: 'tf_efficientnet_b3.aa_in1k', variant: 'b3', inputSize: 300, cropPct: 0.904 }),
  tf({ name: 'tf_efficientnet_b4.aa_in1k', variant: 'b4', inputSize: 380, cropPct: 0.922 }),
  tf({ name: 'tf_efficientnet_b5.aa_in1k', variant: 'b5', inputSize: 456, cropPct: 0.934 }),
  tf({ name: 'tf_efficientnet_b6.aa_in1k', variant: 'b6', inputSize: 528, cropPct: 0.942 }),
  tf({ name: 'tf_efficientnet_b7.aa_in1k', variant: 'b7', inputSize: 600, cropPct: 0.949 }),

  // ImageNet-1k weights without a recipe qualifier in their tag.
  tf({ name: 'tf_efficientnet_b0.in1k', variant: 'b0', inputSize: 224, cropPct: 0.875 }),
  tf({ name: 'tf_efficientnet_b1.in1k', variant: 'b1', inputSize: 240, cropPct: 0.882 }),
  tf({ name: 'tf_efficientnet_b2.in1k', variant: 'b2', inputSize: 260, cropPct: 0.89 }),
  tf({ name: 'tf_efficientnet_b3.in1k', variant: 'b3', inputSize: 300, cropPct: 0.904 }),
  tf({ name: 'tf_efficientnet_b4.in1k', variant: 'b4', inputSize: 380, cropPct: 0.922 }),
  tf({ name: 'tf_efficientnet_b5.in1k', variant: 'b5', inputSize: 456, cropPct: 0.934 }),

  // EfficientNet-Lite (ReLU6, no SE), TensorFlow ports. timm runs lite0-2 bicubic because it
  // matches TF's bilinear better at low resolution, lite3 and lite4 bilinear.
  tf({ name: 'tf_efficientnet_lite0.in1k', variant: 'lite0', inputSize: 224, cropPct: 0.875, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_lite1.in1k', variant: 'lite1', inputSize: 240, cropPct: 0.882, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_lite2.in1k', variant: 'lite2', inputSize: 260, cropPct: 0.89, ...INCEPTION }),
  tf({ name: 'tf_efficientnet_lite3.in1k', variant: 'lite3', inputSize: 300, cropPct: 0.904, interpolation: 'bilinear', ...INCEPTION }),
  tf({ name: 'tf_efficientnet_lite4.in1k', variant: 'lite4', inputSize: 380, cropPct: 0.92, interpolation: 'bilinear', ...INCEPTION }),

  // EfficientNetV2, TensorFlow ports: trained at inputSize, evaluated at testInputSize, uncropped.
  tf({ name: 'tf_efficientnetv2_s.in21k_ft_in1k', variant: 'v2_s', inputSize: 300, testInputSize: 384, cropPct: 1.0, ...INCEPTION }),
  tf({ name: 'tf_efficientnetv2_m.in21k_ft_in1k', variant: 'v2_m', inputSize: 384, testInputSize: 480, cropPct: 1.0, cropMode: 'squash', ...INCEPTION }),
  tf({ name: 'tf_efficientnetv2_l.in21k_ft_in1k', variant: 'v2_l', inputSize: 384, testInputSize: 480, cropPct: 1.0, cropMode: 'squash', ...INCEPTION }),
  tf({ name: 'tf_efficientnetv2_xl.in21k_ft_in1k', variant: 'v2_xl', inputSize: 384, testInputSize: 512, cropPct: 1.0, cropMode: 'squash', ...INCEPTION }),
  tf({ name: 'tf_efficientnetv2_s.in1k', variant: 'v2_s', inputSize: 300, testInputSize: 384, cropPct: 1.0, ...INCEPTION }),
  tf({ name: 'tf_efficientnetv2_m.in1k', variant: 'v2_m', inputSize: 384, testInputSize: 480, cropPct: 1.0, cropMode: 'squash', ...INCEPTION }),
  tf({ name: 'tf_efficientnetv2_l.in1k', variant: 'v2_l', inputSize: 384, testInputSize: 480, cropPct: 1.0, cropMode: 'squash', ...INCEPTION }),
  tf({ name: 'tf_efficientnetv2_b0.in1k', variant: 'v2_b0', inputSize: 192, testInputSize: 224, cropPct: 0.875 }),
  tf({ name: 'tf_efficientnetv2_b1.in1k', variant: 'v2_b1', inputSize: 192, testInputSize: 240, cropPct: 0.882 }),
  tf({ name: 'tf_efficientnetv2_b2.in1k', variant: 'v2_b2', inputSize: 208, testInputSize: 260, cropPct: 0.89 }),
  tf({ name: 'tf_efficientnetv2_b3.in21k_ft_in1k', variant: 'v2_b3', inputSize: 240, testInputSize: 300, cropPct: 0.9, cropMode: 'squash', ...INCEPTION }),
  tf({ name: 'tf_efficientnetv2_b3.in1k', variant: 'v2_b3', inputSize: 240, testInputSize: 300, cropPct: 0.904 }),

  // timm's own PyTorch-trained V2-S variant.
  pt({ name: 'efficientnetv2_rw_s.ra2_in1k', variant: 'v2_rw_s', inputSize: 288, testInputSize: 384, cropPct: 1.0 }),
]);

export const PRESET_NAMES: readonly string[] = Object.freeze(PRESETS.map((p) => p.name));

/** `tf_efficientnet_b0.ns_jft_in1k` -> `tf_efficientnet_b0`; a bare name is its own architecture. */
function architectureOf(name: string): string {
  return name.split('.', 1)[0];
}

/** Bare architecture name -> timm's default preset: the first row listed for it. */
const DEFAULT_BY_ARCHITECTURE = new Map<string, CheckpointPreset>();
for (const p of PRESETS) {
  const architecture = architectureOf(p.name);
  if (!DEFAULT_BY_ARCHITECTURE.has(architecture)) DEFAULT_BY_ARCHITECTURE.set(architecture, p);
}
const PRESET_BY_NAME: ReadonlyMap<string, CheckpointPreset> = new Map(PRESETS.map((p) => [p.name, p]));
/** keras.applications' EfficientNetB0 … B7 (`keras/EfficientNetB0`), kept apart from timm's table; see presets-keras.ts. */
const KERAS_PRESET_BY_NAME: ReadonlyMap<string, CheckpointPreset> = new Map(KERAS_PRESETS.map((p) => [p.name, p]));
/** torchvision's EfficientNet weights (`torchvision/efficientnet_b0`); see presets-torchvision.ts. */
const TORCHVISION_PRESET_BY_NAME: ReadonlyMap<string, CheckpointPreset> = new Map(TORCHVISION_PRESETS.map((p) => [p.name, p]));

/**
 * Looks a checkpoint up by its full timm name (`tf_efficientnet_b0.ns_jft_in1k`), its hub id
 * (`timm/tf_efficientnet_b0.ns_jft_in1k`) or its bare architecture (`tf_efficientnet_b0`, which
 * means timm's default tag), a Keras application (`keras/EfficientNetB0`) or torchvision's
 * weights (`torchvision/efficientnet_b0`). Throws ConfigError
 * naming the closest known names otherwise.
 */
export function findPreset(name: string): CheckpointPreset {
  const timmName = name.startsWith(HUB_PREFIX) ? name.slice(HUB_PREFIX.length) : name;
  const found = PRESET_BY_NAME.get(timmName) ?? DEFAULT_BY_ARCHITECTURE.get(timmName) ?? KERAS_PRESET_BY_NAME.get(name)
    ?? TORCHVISION_PRESET_BY_NAME.get(name);
  if (found !== undefined) return found;

  const suggestions = closeMatches(timmName);
  const hint =
    suggestions.length > 0
      ? `did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?`
      : `known architectures: ${[...DEFAULT_BY_ARCHITECTURE.keys()].sort().join(', ')}`;
  throw new ConfigError(`unknown checkpoint preset "${name}"; ${hint}`);
}

/** Keeps the message to a line or two when a short query (say `tf`) begins dozens of names. */
const MAX_SUGGESTIONS = 12;

/**
 * The known names (full and bare) nearest to `query`, every one of them if several tie, so
 * `tf_efficientnet_b9` lists b0 to b8 rather than an arbitrary few. A name that extends the query
 * (an unfinished tag such as `tf_efficientnet_b0.ap`) counts as distance 0. Beyond that, up to a
 * third of the query's length in edits is accepted: enough for typos and a missing `tf_`, too few
 * for unrelated names such as `resnet50` to match anything.
 */
function closeMatches(query: string): string[] {
  const limit = Math.max(2, Math.floor(query.length / 3));
  const candidates = [...DEFAULT_BY_ARCHITECTURE.keys(), ...PRESET_NAMES, ...KERAS_PRESET_BY_NAME.keys(), ...TORCHVISION_PRESET_BY_NAME.keys()];
  const distances = candidates.map((candidate) => (candidate.startsWith(query) ? 0 : editDistance(query, candidate)));
  const nearest = Math.min(...distances);
  if (nearest > limit) return [];
  return candidates.filter((_, i) => distances[i] === nearest).slice(0, MAX_SUGGESTIONS);
}

/** Levenshtein distance: fewest single-character inserts, deletes or substitutions from `a` to `b`. */
function editDistance(a: string, b: string): number {
  // [b.length + 1] distances from a[0, i) to every prefix of b; one table row, rebuilt per character of a.
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}
