#!/usr/bin/python3
"""Makes the PyTorch weight fixtures in test/fixtures/torch/ with the real writers.

Every checkpoint here is written by torch.save (Debian's python3-torch 1.13), either as the zip
format (the default since 1.6) or the legacy stream (_use_new_zipfile_serialization=False):

- torchvision's own EfficientNet built by its builder at width 0.25, depth 0.34 and 10 classes
  (small enough to commit: 209k parameters), with random BN statistics so BN folding matters,
  saved as zip and as legacy; with torchvision's forward pass on a fixed input as the reference.
- the same weights under EfficientNet-PyTorch's names (F16) and timm's names (BF16), each with
  torchvision's forward pass on the rounded weights, so every name mapping is checked against an
  independent network.
- tensor views (storage offsets, transposed strides, shared storage), F16, BF16 and an int64
  scalar, with the expected values as JSON; the same dict wrapped as {"state_dict": ...} with
  DataParallel's "module." prefix; a re-zipped (deflated) copy.
- hostile files: a pickle that names os.system (a __reduce__ payload, as written by pickle itself),
  one that calls builtins.exec, one nested 5,000 lists deep, and one declaring a storage of 2^40
  elements with 4 bytes behind it.

Run from the repository root (needs python3-torch and python3-torchvision; apt-get install them):
  /usr/bin/python3 scripts/make-weight-fixtures.py
The tests never run Python.
"""
import collections
import io
import json
import os
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / 'test' / 'fixtures' / 'torch'
WIDTH, DEPTH, CLASSES = 0.25, 0.34, 10
INPUT_SHAPE = (2, 3, 72, 64)


def torchvision_model():
    torch.manual_seed(1913)
    setting, last_channel = _efficientnet_conf('efficientnet_b0', width_mult=WIDTH, depth_mult=DEPTH)
    model = EfficientNet(setting, 0.2, num_classes=CLASSES, last_channel=last_channel)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def forward(model, state_dict, x):
    """torchvision's forward pass with `state_dict` (values already rounded as a file stores them)."""
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state_dict.items()})
    with torch.no_grad():
        return model(x).numpy()


# torchvision sub-module index -> timm name, per block kind (see src/weights/naming/torchvision.ts).
WITH_EXPAND = {'0.0': 'conv_pw', '0.1': 'bn1', '1.0': 'conv_dw', '1.1': 'bn2', '2.fc1': 'se.conv_reduce',
               '2.fc2': 'se.conv_expand', '3.0': 'conv_pwl', '3.1': 'bn3'}
WITHOUT_EXPAND = {'0.0': 'conv_dw', '0.1': 'bn1', '1.fc1': 'se.conv_reduce', '1.fc2': 'se.conv_expand',
                  '2.0': 'conv_pw', '2.1': 'bn2'}
# timm -> EfficientNet-PyTorch block parts, per block kind.
EFFNET_WITH_EXPAND = {'conv_pw': '_expand_conv', 'bn1': '_bn0', 'conv_dw': '_depthwise_conv', 'bn2': '_bn1',
                      'se.conv_reduce': '_se_reduce', 'se.conv_expand': '_se_expand', 'conv_pwl': '_project_conv',
                      'bn3': '_bn2'}
EFFNET_WITHOUT_EXPAND = {'conv_dw': '_depthwise_conv', 'bn1': '_bn1', 'se.conv_reduce': '_se_reduce',
                         'se.conv_expand': '_se_expand', 'conv_pw': '_project_conv', 'bn2': '_bn2'}


def timm_names(state_dict):
    """torchvision names -> timm names, written out independently of the TypeScript mapping."""
    head = max(int(k.split('.')[1]) for k in state_dict if k.startswith('features.'))
    renamed = collections.OrderedDict()
    for key, value in state_dict.items():
        parts = key.split('.')
        if parts[0] == 'classifier':
            renamed['classifier.' + parts[2]] = value
        elif parts[1] == '0':
            renamed[('conv_stem.' if parts[2] == '0' else 'bn1.') + parts[3]] = value
        elif int(parts[1]) == head:
            renamed[('conv_head.' if parts[2] == '0' else 'bn2.') + parts[3]] = value
        else:
            stage, index = int(parts[1]) - 1, int(parts[2])
            expands = f'features.{parts[1]}.{parts[2]}.block.3.0.weight' in state_dict
            module = '.'.join(parts[4:-1])
            table = WITH_EXPAND if expands else WITHOUT_EXPAND
            renamed[f'blocks.{stage}.{index}.{table[module]}.{parts[-1]}'] = value
    return renamed


def effnet_pytorch_names(timm_state):
    """timm names -> EfficientNet-PyTorch names: blocks numbered flat across stages."""
    order = []  # (stage, index) in network order
    for key in timm_state:
        if key.startswith('blocks.'):
            place = tuple(int(p) for p in key.split('.')[1:3])
            if place not in order:
                order.append(place)
    flat = {place: n for n, place in enumerate(order)}
    ends = {'conv_stem': '_conv_stem', 'bn1': '_bn0', 'conv_head': '_conv_head', 'bn2': '_bn1', 'classifier': '_fc'}
    renamed = collections.OrderedDict()
    for key, value in timm_state.items():
        parts = key.split('.')
        if parts[0] == 'blocks':
            place = (int(parts[1]), int(parts[2]))
            module = '.'.join(parts[3:-1])
            expands = f'blocks.{place[0]}.{place[1]}.conv_pwl.weight' in timm_state
            table = EFFNET_WITH_EXPAND if expands else EFFNET_WITHOUT_EXPAND
            renamed[f'_blocks.{flat[place]}.{table[module]}.{parts[-1]}'] = value
        else:
            renamed[f'{ends[parts[0]]}.{parts[1]}'] = value
    return renamed


def rounded(state_dict, dtype):
    return collections.OrderedDict(
        (k, v.to(dtype) if v.is_floating_point() else v) for k, v in state_dict.items())


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3
    halves = torch.linspace(-2, 2, 9).to(torch.float16)
    state = collections.OrderedDict([
        ('transposed', base.t()),                      # strides (1, 6): not contiguous
        ('sliced', base[1:3, 2:5]),                    # storage offset 8, strides (6, 1)
        ('row', base[2]),                              # offset 12, shares base's storage
        ('whole', base),
        ('half', halves),
        ('half_strided', halves[1::3]),                # offset 1, stride 3
        ('bf16', torch.tensor([1.5, -0.25, 3e38, 1e-3], dtype=torch.bfloat16)),
        ('steps', torch.tensor(7)),                    # int64 scalar, like num_batches_tracked
        ('expanded', torch.tensor([[2.0], [3.0]]).expand(2, 3)),  # stride 0 along the last axis
    ])
    expected = {k: {'shape': list(v.shape), 'values': v.float().flatten().tolist()}
                for k, v in state.items() if v.is_floating_point()}
    return state, expected


class SystemCall:
    """What an attacker pickles: unpickling it runs os.system."""
    def __reduce__(self):
        return (os.system, ('echo pickled code ran > /tmp/efficientnet-pwned',))


class ExecCall:
    def __reduce__(self):
        return (exec, ('import os; os.remove("important")',))


def huge_storage_zip(path):
    """A zip laid out as torch.save lays it out, whose pickle declares a 2^40-element storage."""
    buffer = io.BytesIO()

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if obj == 'STORAGE':
                return ('storage', torch.FloatStorage, '0', 'cpu', 2 ** 40)
            return None

    class Rebuild:
        def __reduce__(self):
            return (torch._utils._rebuild_tensor_v2, ('STORAGE', 0, (2 ** 20, 2 ** 20), (2 ** 20, 1), False, collections.OrderedDict()))

    Pickler(buffer, protocol=2).dump(collections.OrderedDict([('w', Rebuild())]))
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_STORED) as archive:
        archive.writestr('archive/data.pkl', buffer.getvalue())
        archive.writestr('archive/data/0', b'\0\0\0\0')
        archive.writestr('archive/version', b'3\n')


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    model = torchvision_model()
    state = model.state_dict()
    torch.manual_seed(7)
    x = torch.randn(*INPUT_SHAPE)
    np.save(OUT / 'input.npy', x.numpy())

    torch.save(state, OUT / 'torchvision-zip.pth')
    torch.save(state, OUT / 'torchvision-legacy.pth', _use_new_zipfile_serialization=False)
    np.save(OUT / 'torchvision-logits.npy', forward(model, state, x))

    timm_state = timm_names(state)
    effnet = rounded(effnet_pytorch_names(timm_state), torch.float16)
    torch.save(effnet, OUT / 'efficientnet-pytorch-f16.pth')
    np.save(OUT / 'efficientnet-pytorch-f16-logits.npy', forward(model, rounded(state, torch.float16), x))
    timm_bf16 = rounded(timm_state, torch.bfloat16)
    torch.save(timm_bf16, OUT / 'timm-bf16.pth')
    np.save(OUT / 'timm-bf16-logits.npy', forward(model, rounded(state, torch.bfloat16), x))
    # A feature extractor: timm's num_classes=0 drops the classifier.
    headless = collections.OrderedDict((k, v) for k, v in timm_bf16.items() if not k.startswith('classifier.'))
    torch.save(headless, OUT / 'timm-headless.pth', _use_new_zipfile_serialization=False)

    view_state, expected = views()
    torch.save(view_state, OUT / 'views-zip.pth')
    torch.save(view_state, OUT / 'views-legacy.pth', _use_new_zipfile_serialization=False)
    wrapped = {'epoch': 3, 'arch': 'demo', 'state_dict': collections.OrderedDict(('module.' + k, v) for k, v in view_state.items())}
    torch.save(wrapped, OUT / 'views-wrapped.pth')
    (OUT / 'views.json').write_text(json.dumps(expected, indent=1) + '\n')
    with zipfile.ZipFile(OUT / 'views-zip.pth') as source, \
            zipfile.ZipFile(OUT / 'views-deflated.pth', 'w', compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))

    torch.save({'w': torch.zeros(2), 'payload': SystemCall()}, OUT / 'evil-system.pth')
    torch.save({'w': torch.zeros(2), 'payload': ExecCall()}, OUT / 'evil-exec-legacy.pth', _use_new_zipfile_serialization=False)
    sys.setrecursionlimit(100_000)
    deep = []
    for _ in range(5000):
        deep = [deep]
    torch.save({'w': torch.zeros(2), 'deep': deep}, OUT / 'evil-deep.pth')
    huge_storage_zip(OUT / 'evil-huge-storage.pth')

    for path in sorted(OUT.iterdir()):
        print(f'{path.stat().st_size:>9}  {path.relative_to(ROOT)}')


if __name__ == '__main__':
    main()
