#!/usr/bin/python3
"""Makes the preprocessing goldens in test/fixtures/preprocess/ with Pillow, as timm evaluates.

Two kinds: crops of the example photos through timm's eval transform (below), and plain resizes
of small seeded noise images at awkward sizes (1-pixel sides, enlarging, shrinking, a size kept on
one axis, which Pillow skips), where full-range edges make bicubic overshoot the 0-255 range.

timm's eval transform on a PIL image is: torchvision Resize (shorter side to floor(size / crop_pct),
or both sides in 'squash' mode) -> CenterCrop(size) -> ToTensor -> Normalize. Resize on a PIL image
is one call to Image.resize; everything after it is exact arithmetic on the 8-bit crop. So each
golden is the 8-bit RGB crop Pillow produces, stored losslessly as PNG, and the tests derive the
normalised tensor from it. torchvision itself is not needed: its two geometry rules are restated
below in Python, so Python's own int() and round() (banker's rounding) decide the numbers.

Run once after changing a case, with Debian's Pillow and numpy (apt-get install python3-pil
python3-numpy), from the repository root:  /usr/bin/python3 scripts/make-preprocess-fixtures.py
The tests never run Python.
"""
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, features

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / 'test' / 'fixtures' / 'preprocess'

IMAGENET = {'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225]}
INCEPTION = {'mean': [0.5, 0.5, 0.5], 'std': [0.5, 0.5, 0.5]}

# Recipes as timm's pretrained configs state them (src/arch/presets.ts must agree; a test checks).
PRESETS = {
    'tf_efficientnet_b0.ns_jft_in1k': {'size': 224, 'cropPct': 0.875, 'interpolation': 'bicubic', 'cropMode': 'center', **IMAGENET},
    'tf_efficientnet_b3.ap_in1k': {'size': 300, 'cropPct': 0.904, 'interpolation': 'bicubic', 'cropMode': 'center', **INCEPTION},
    'efficientnet_b0.ra_in1k': {'size': 224, 'cropPct': 0.875, 'interpolation': 'bicubic', 'cropMode': 'center', **IMAGENET},
}
# Hand-made recipes for what no preset above covers: bilinear, and squash mode with odd sizes.
EXPLICIT = {
    'bilinear-224-full': {'size': 224, 'cropPct': 1.0, 'interpolation': 'bilinear', 'cropMode': 'center', **IMAGENET},
    'squash-bilinear-192': {'size': 192, 'cropPct': 0.9, 'interpolation': 'bilinear', 'cropMode': 'squash', **IMAGENET},
}

# (image, recipe name): downscaling, upscaling (chelsea's 300-pixel short side to 331), both
# filters, both crop modes, PNG and both JPEG chroma subsamplings (grace_hopper 4:2:0, panda 4:2:2),
# in five crops of about 100 KB each.
CASES = [
    ('chelsea.png', 'tf_efficientnet_b0.ns_jft_in1k'),
    ('chelsea.png', 'tf_efficientnet_b3.ap_in1k'),
    ('grace_hopper.jpg', 'squash-bilinear-192'),
    ('panda.jpg', 'efficientnet_b0.ra_in1k'),
    ('panda.jpg', 'bilinear-224-full'),
]

# (width, height) of a noise image -> resizes of it: (out width, out height, filter).
SYNTHETIC = {
    (1, 1): [(5, 3, 'bicubic')],
    (1, 7): [(3, 2, 'bilinear'), (4, 20, 'bicubic')],
    (17, 5): [(33, 9, 'bicubic'), (3, 2, 'bicubic')],
    (97, 13): [(31, 40, 'bilinear'), (96, 13, 'bicubic')],
    (40, 40): [(40, 17, 'bicubic'), (7, 7, 'bilinear')],
}

FILTERS = {'bicubic': Image.BICUBIC, 'bilinear': Image.BILINEAR}


def resized_size(width, height, recipe):
    """torchvision Resize(int) keeps the aspect ratio: short side -> scale, long side truncated."""
    scale = math.floor(recipe['size'] / recipe['cropPct'])
    if recipe['cropMode'] == 'squash':
        return scale, scale
    short, long = (width, height) if width <= height else (height, width)
    new_long = int(scale * long / short)
    return (scale, new_long) if width <= height else (new_long, scale)


def crop_offsets(width, height, size):
    """torchvision CenterCrop: int(round(...)) of the half difference; round() is banker's rounding."""
    return int(round((height - size) / 2.0)), int(round((width - size) / 2.0))


def noise_image(width, height, rng):
    """Uniform noise with every third row and some columns forced to 255 or 0: hard edges."""
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    pixels[::3, ::2] = 255
    pixels[1::5, ::3] = 0
    return Image.fromarray(pixels, 'RGB')


def synthetic_resizes():
    rng = np.random.default_rng(2024)
    resizes = []
    for (width, height), outputs in SYNTHETIC.items():
        source = f"noise-{width}x{height}.png"
        image = noise_image(width, height, rng)
        image.save(OUT / source, optimize=True)
        for out_width, out_height, interpolation in outputs:
            golden = f"noise-{width}x{height}.{interpolation}-{out_width}x{out_height}.png"
            image.resize((out_width, out_height), FILTERS[interpolation]).save(OUT / golden, optimize=True)
            resizes.append({
                'source': source, 'width': width, 'height': height,
                'outWidth': out_width, 'outHeight': out_height, 'interpolation': interpolation, 'golden': golden,
            })
    return resizes


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    for image_name, recipe_name in CASES:
        recipe = PRESETS.get(recipe_name) or EXPLICIT[recipe_name]
        with Image.open(ROOT / 'data' / 'images' / image_name) as opened:
            image = opened.convert('RGB')
        width, height = image.size
        new_width, new_height = resized_size(width, height, recipe)
        resized = image if (new_width, new_height) == image.size else image.resize((new_width, new_height), FILTERS[recipe['interpolation']])
        size = recipe['size']
        top, left = crop_offsets(new_width, new_height, size)
        crop = resized.crop((left, top, left + size, top + size))
        golden = f"{Path(image_name).stem}.{recipe_name}.png"
        crop.save(OUT / golden, optimize=True)
        cases.append({
            'image': f"data/images/{image_name}",
            'preset': recipe_name if recipe_name in PRESETS else None,
            'recipe': recipe,
            'source': {'width': width, 'height': height},
            # Pillow's decoded pixels, [height, width, 3]: lets a test check our decoder bit for bit.
            'decodedSha256': hashlib.sha256(np.asarray(image, dtype=np.uint8).tobytes()).hexdigest(),
            'resize': {'width': new_width, 'height': new_height},
            'crop': {'top': top, 'left': left},
            'golden': golden,
        })
    manifest = {
        'generator': 'scripts/make-preprocess-fixtures.py',
        'pillow': PIL.__version__,
        'libjpeg': features.version('jpg'),
        'libjpegTurbo': features.check_feature('libjpeg_turbo'),
        'cases': cases,
        'resizes': synthetic_resizes(),
    }
    (OUT / 'manifest.json').write_text(json.dumps(manifest, indent=2) + '\n')


if __name__ == '__main__':
    main()
