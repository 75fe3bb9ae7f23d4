/**
 * Presets for torchvision's EfficientNet weights (`torchvision.models.efficientnet_b0` … `_b7`,
 * `efficientnet_v2_s|m|l`,
 * files `efficientnet_b0_rwightman-3dd342df.pth` … `efficientnet_b7_lukemelas-dcc49843.pth`), named
 * `torchvision/efficientnet_b0` … `torchvision/efficientnet_b7`; b1's second release (IMAGENET1K_V2)
 * is `torchvision/efficientnet_b1.imagenet1k_v2`.
 *
 * From torchvision 0.14's `models/efficientnet.py`: convolutions pad k/2 on each side (symmetric);
 * BatchNorm2d keeps PyTorch's eps 1e-5 for b0-b4 and is built with eps 1e-3 for b5-b7. The eval
 * transform (`ImageClassification`) resizes the shorter side to `resize_size`, centre-crops
 * `crop_size`, and normalises with ImageNet's mean and std: here cropPct = crop / resize, which
 * gives back exactly resize = floor(crop / cropPct) for every row (a test checks).
 */
import type { CheckpointPreset, Interpolation } from './presets.js';
import type { VariantName } from './variants.js';

type Rgb = [number, number, number];

const IMAGENET_MEAN: Rgb = [0.485, 0.456, 0.406];
const IMAGENET_STD: Rgb = [0.229, 0.224, 0.225];
const DOWNLOADS = 'https://download.pytorch.org/models/';

/** The prefix that marks a torchvision preset name. */
export const TORCHVISION_PREFIX = 'torchvision/';

function torchvisionPreset(
  name: string, variant: VariantName, crop: number, resize: number, interpolation: Interpolation, file: string,
  normalisation: { mean: Rgb; std: Rgb } = { mean: IMAGENET_MEAN, std: IMAGENET_STD },
): CheckpointPreset {
  return Object.freeze({
    name: `${TORCHVISION_PREFIX}${name}`,
    variant,
    padding: 'symmetric',
    // torchvision builds b5-b7 and every V2 with BatchNorm eps 1e-3.
    bnEps: ['b5', 'b6', 'b7'].includes(variant) || variant.startsWith('v2_') ? 1e-3 : 1e-5,
    inputSize: crop,
    cropPct: crop / resize,
    cropMode: 'center',
    interpolation,
    mean: Object.freeze([...normalisation.mean]) as Rgb,
    std: Object.freeze([...normalisation.std]) as Rgb,
    numClasses: 1000,
    weightsUrl: `${DOWNLOADS}${file}`,
    license: 'bsd-3-clause',
  });
}

export const TORCHVISION_PRESETS: readonly CheckpointPreset[] = Object.freeze([
  torchvisionPreset('efficientnet_b0', 'b0', 224, 256, 'bicubic', 'efficientnet_b0_rwightman-3dd342df.pth'),
  torchvisionPreset('efficientnet_b1', 'b1', 240, 256, 'bicubic', 'efficientnet_b1_rwightman-533bc792.pth'),
  torchvisionPreset('efficientnet_b1.imagenet1k_v2', 'b1', 240, 255, 'bilinear', 'efficientnet_b1-c27df63c.pth'),
  torchvisionPreset('efficientnet_b2', 'b2', 288, 288, 'bicubic', 'efficientnet_b2_rwightman-bcdf34b7.pth'),
  torchvisionPreset('efficientnet_b3', 'b3', 300, 320, 'bicubic', 'efficientnet_b3_rwightman-cf984f9c.pth'),
  torchvisionPreset('efficientnet_b4', 'b4', 380, 384, 'bicubic', 'efficientnet_b4_rwightman-7eb33cd5.pth'),
  torchvisionPreset('efficientnet_b5', 'b5', 456, 456, 'bicubic', 'efficientnet_b5_lukemelas-b6417697.pth'),
  torchvisionPreset('efficientnet_b6', 'b6', 528, 528, 'bicubic', 'efficientnet_b6_lukemelas-c76e70fd.pth'),
  torchvisionPreset('efficientnet_b7', 'b7', 600, 600, 'bicubic', 'efficientnet_b7_lukemelas-dcc49843.pth'),
  // EfficientNetV2 (torchvision 0.14's EfficientNet_V2_*_Weights.IMAGENET1K_V1): L alone normalises with mean and std 0.5.
  torchvisionPreset('efficientnet_v2_s', 'v2_s', 384, 384, 'bilinear', 'efficientnet_v2_s-dd5fe13b.pth'),
  torchvisionPreset('efficientnet_v2_m', 'v2_m', 480, 480, 'bilinear', 'efficientnet_v2_m-dc08266a.pth'),
  torchvisionPreset('efficientnet_v2_l', 'v2_l', 480, 480, 'bicubic', 'efficientnet_v2_l-59c71312.pth',
    { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }),
]);
