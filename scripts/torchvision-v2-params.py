#!/usr/bin/env python3
"""Counts EfficientNetV2 parameters with torchvision's own EfficientNet class.

timm publishes the V2-B0..B3, XL and rw_s parameter counts rounded to 10^4; this builds each
network from torchvision's blocks (an implementation independent of this project's) with the
same stage table and prints the exact trainable-parameter count that test/arch/network.test.ts
states. Channel counts are rounded here by timm's rule (multiples of 8, a 10% guard for all but
V2-B*, which use none) and handed to torchvision unscaled, because torchvision's own rounding
always applies the guard. A fused stage of expansion 1 in timm's rw_s keeps its 1x1 projection,
which torchvision's FusedMBConv drops; its count is added by hand below.

Usage: /usr/bin/python3 scripts/torchvision-v2-params.py   (python3-torchvision 0.14)
"""
import math
from functools import partial

from torch import nn
from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig


def round_channels(channels, width, limit):
    scaled = channels * width
    rounded = max(8, int(scaled + 4) // 8 * 8)
    return rounded + 8 if rounded < limit * scaled else rounded


# (kind, expand, stride, out channels, repeats) after timm's V2 stage tables; kernels are all 3.
# kind: 'cn' conv-bn-act, 'er' fused-MBConv (EdgeResidual), 'ir' MBConv with SE.
BASE = [('cn', 1, 1, 16, 1), ('er', 4, 2, 32, 2), ('er', 4, 2, 48, 2), ('ir', 4, 2, 96, 3), ('ir', 6, 1, 112, 5), ('ir', 6, 2, 192, 8)]
XL = [('cn', 1, 1, 32, 4), ('er', 4, 2, 64, 8), ('er', 4, 2, 96, 8), ('ir', 4, 2, 192, 16), ('ir', 6, 1, 256, 24), ('ir', 6, 2, 512, 32), ('ir', 6, 1, 640, 8)]
RW_S = [('er', 1, 1, 24, 2), ('er', 4, 2, 48, 4), ('er', 4, 2, 64, 4), ('ir', 4, 2, 128, 6), ('ir', 6, 1, 160, 9), ('ir', 6, 2, 272, 15)]

# name: (table, stem, head, width, depth, round limit)
VARIANTS = {
    'v2_b0': (BASE, 32, 1280, 1.0, 1.0, 0.0),
    'v2_b1': (BASE, 32, 1280, 1.0, 1.1, 0.0),
    'v2_b2': (BASE, 32, 1280, 1.1, 1.2, 0.0),
    'v2_b3': (BASE, 32, 1280, 1.2, 1.4, 0.0),
    'v2_xl': (XL, 32, 1280, 1.0, 1.0, 0.9),
    'v2_rw_s': (RW_S, 24, 1792, 1.0, 1.0, 0.9),
}


def count(table, stem, head, width, depth, limit):
    settings = []
    channels = round_channels(stem, width, limit)
    extra = 0
    for kind, expand, stride, out, repeats in table:
        out = round_channels(out, width, limit)
        layers = math.ceil(repeats * depth)
        config = MBConvConfig if kind == 'ir' else FusedMBConvConfig
        settings.append(config(expand, 3, stride, channels, out, layers))
        if kind == 'er' and expand == 1:
            # timm's EdgeResidual with expansion 1 keeps a 1x1 projection + BN per block; torchvision has none.
            extra += layers * (out * out + 2 * out)
        channels = out
    model = EfficientNet(settings, dropout=0.2, last_channel=round_channels(head, width, limit),
                         norm_layer=partial(nn.BatchNorm2d, eps=1e-3))
    return sum(p.numel() for p in model.parameters()) + extra


for name, spec in VARIANTS.items():
    print(name, count(*spec))
