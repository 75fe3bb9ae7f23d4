#!/usr/bin/env python3
"""Writes test/fixtures/torchvision-v2/: a small EfficientNetV2 built by torchvision's own code, as a
reference for this project's V2 (test/crosscheck/torchvision-v2.test.ts).

torchvision's efficientnet_v2_s has 21M parameters, far too many for a committed fixture, so this
builds the same network at a fraction of the width and depth with torchvision's EfficientNet,
FusedMBConvConfig and MBConvConfig: EfficientNetV2-S's stage table at width 0.125 and depth 0.25,
10 classes. Channel counts are rounded here by timm's rule and handed to torchvision unscaled
(torchvision's own rounding differs from timm's for some widths), so the network equals this
project's `decodeTopology(EFFICIENTNET_V2_S, { width: 0.125, depth: 0.25 })` block for block: a
residual conv-bn-act first stage, two fused-MBConv stages, MBConv stages with SE and residuals.

Weights are drawn at random, fan-in scaled, with BN statistics and affine parameters away from 0 and 1
(so folding them matters), rounded to float16 and stored as float16 (halving the fixture; every
value is exact in both precisions). The reference runs in float64 on the float16 values.

Outputs (all little-endian):
  model.pth     the state_dict, saved by torch.save (zip container, torchvision names, F16)
  input.f32     [2, 3, 48, 40] float32 input, NCHW
  logits.f32    [2, 10] float32 logits of torchvision's model in eval mode, computed in float64
  features.f32  [2, 160] float32 globally pooled features (torchvision's avgpool output)
  meta.json     shapes, widths, the seed and torch/torchvision versions

Usage: /usr/bin/python3 scripts/make-torchvision-v2-fixtures.py   (python3-torch 1.13, torchvision 0.14)
"""
import json
import math
import os
from functools import partial

import torch
import torchvision
from torch import nn
from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torchvision-v2')
SEED = 2021
WIDTH = 0.125
DEPTH = 0.25
CLASSES = 10
SHAPE = (2, 3, 48, 40)
# EfficientNetV2-S (torchvision's efficientnet_v2_s, same as timm's): (fused, expand, stride, out, repeats).
STAGES = [(True, 1, 1, 24, 2), (True, 4, 2, 48, 4), (True, 4, 2, 64, 4),
          (False, 4, 2, 128, 6), (False, 6, 1, 160, 9), (False, 6, 2, 256, 15)]
STEM, HEAD = 24, 1280


def round_channels(channels):
    """timm's rule: nearest multiple of 8, at least 8, plus 8 if that lost more than 10%."""
    scaled = channels * WIDTH
    rounded = max(8, int(scaled + 4) // 8 * 8)
    return rounded + 8 if rounded < 0.9 * scaled else rounded


def build():
    settings = []
    channels = round_channels(STEM)
    for fused, expand, stride, out, repeats in STAGES:
        out = round_channels(out)
        config = FusedMBConvConfig if fused else MBConvConfig
        settings.append(config(expand, 3, stride, channels, out, math.ceil(repeats * DEPTH)))
        channels = out
    return EfficientNet(settings, dropout=0.2, num_classes=CLASSES, last_channel=round_channels(HEAD),
                        norm_layer=partial(nn.BatchNorm2d, eps=1e-3))


def randomise(model, generator):
    """Fan-in scaled conv weights (torchvision's fan-out init fades the signal out over the SE
    stages of so narrow a network) and BN statistics and affine parameters away from 0 and 1."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            fan_in = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            module.weight.data = torch.randn(module.weight.shape, generator=generator) * math.sqrt(2 / fan_in)
        if isinstance(module, nn.BatchNorm2d):
            c = module.num_features
            module.weight.data = 0.5 + torch.rand(c, generator=generator)
            module.bias.data = 0.2 * (torch.rand(c, generator=generator) - 0.5)
            module.running_mean.data = 0.2 * (torch.rand(c, generator=generator) - 0.5)
            module.running_var.data = 0.5 + torch.rand(c, generator=generator)


def main():
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    model = build()
    randomise(model, generator)
    model.eval()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(tensor.half().float())
    image = torch.randn(SHAPE, generator=generator)

    reference = model.double()
    with torch.no_grad():
        x = image.double()
        features = torch.flatten(reference.avgpool(reference.features(x)), 1)
        logits = reference.classifier(features)

    os.makedirs(OUT, exist_ok=True)
    state = {name: (t.half() if t.is_floating_point() else t) for name, t in model.float().state_dict().items()}
    torch.save(state, os.path.join(OUT, 'model.pth'))
    image.float().numpy().astype('<f4').tofile(os.path.join(OUT, 'input.f32'))
    logits.float().numpy().astype('<f4').tofile(os.path.join(OUT, 'logits.f32'))
    features.float().numpy().astype('<f4').tofile(os.path.join(OUT, 'features.f32'))
    meta = {
        'inputShape': list(SHAPE), 'classes': CLASSES, 'headChannels': round_channels(HEAD),
        'width': WIDTH, 'depth': DEPTH, 'bnEps': 1e-3, 'padding': 'symmetric', 'seed': SEED,
        'parameters': sum(p.numel() for p in model.parameters()),
        'torch': torch.__version__, 'torchvision': torchvision.__version__,
    }
    with open(os.path.join(OUT, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    print(json.dumps(meta), 'logits', logits.float().numpy().round(3).tolist())


if __name__ == '__main__':
    main()
