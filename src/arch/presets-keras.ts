/**
 * Presets for keras.applications' EfficientNetB0 … B7 (`efficientnetb0.h5` … and `_notop.h5`),
 * named `keras/EfficientNetB0` … `keras/EfficientNetB7`.
 *
 * From Keras's `efficientnet.py`: the same scaling table as the paper (B0 at 224 … B7 at 600);
 * stride-2 convolutions pad with ZeroPadding2D(correct_pad(...)) and then run `valid`, which is
 * TensorFlow SAME padding (for an even side it pads k//2 - 1 before and k//2 after, for an odd
 * side k//2 on both, exactly SAME's before = floor(total / 2)); every other conv is `same`;
 * BatchNormalization keeps Keras's default epsilon, 1e-3.
 *
 * Preprocessing: Keras's documentation says the model takes 0..255 pixels at any size and does
 * its own scaling (`preprocess_input` is a pass-through), and gives no resize or crop. Its
 * ImageNet weights are the TensorFlow reference checkpoints, whose evaluation pipeline (and
 * timm's presets for the same checkpoints, `tf_efficientnet_b*`) is a centre crop of
 * size / (size + 32) of the shorter side, resized bicubically to the native size: that is the
 * recipe here. The normalisation is ImageNet's, which is what the `normalization` layer of
 * Keras's ImageNet files amounts to; a file that carries its own `normalization` layer
 * replaces it (see `weights/hdf5/keras-h5.ts`).
 */
import type { CheckpointPreset } from './presets.js';
import type { VariantName } from './variants.js';

type Rgb = [number, number, number];

const IMAGENET_MEAN: Rgb = [0.485, 0.456, 0.406];
const IMAGENET_STD: Rgb = [0.229, 0.224, 0.225];
/** Where keras.applications downloads its weights from (`BASE_WEIGHTS_PATH` in efficientnet.py). */
const KERAS_WEIGHTS_BASE = 'https://storage.googleapis.com/keras-applications/';

/** The prefix that marks a Keras preset name. */
export const KERAS_PREFIX = 'keras/';

function kerasPreset(variant: VariantName, inputSize: number, cropPct: number): CheckpointPreset {
  const model = `EfficientNet${variant.toUpperCase()}`;
  return Object.freeze({
    name: `${KERAS_PREFIX}${model}`,
    variant,
    padding: 'same',
    bnEps: 1e-3,
    inputSize,
    cropPct,
    cropMode: 'center',
    interpolation: 'bicubic',
    mean: Object.freeze([...IMAGENET_MEAN]) as Rgb,
    std: Object.freeze([...IMAGENET_STD]) as Rgb,
    numClasses: 1000,
    weightsUrl: `${KERAS_WEIGHTS_BASE}${model.toLowerCase()}.h5`,
    license: 'apache-2.0',
  });
}

/** cropPct is size / (size + 32), rounded to three places as timm records it for the same checkpoints. */
export const KERAS_PRESETS: readonly CheckpointPreset[] = Object.freeze([
  kerasPreset('b0', 224, 0.875),
  kerasPreset('b1', 240, 0.882),
  kerasPreset('b2', 260, 0.89),
  kerasPreset('b3', 300, 0.904),
  kerasPreset('b4', 380, 0.922),
  kerasPreset('b5', 456, 0.934),
  kerasPreset('b6', 528, 0.942),
  kerasPreset('b7', 600, 0.949),
]);
