#!/usr/bin/python3
"""Makes the Keras HDF5 fixtures in test/fixtures/keras/ with h5py, in the layout Keras 2 writes.

The values come from our own synthetic timm-named safetensors (createSyntheticWeights, seeded) for
a small custom network, so a test can check that the Keras file gives the same logits, bit for
bit, as the timm file it was made from. The conversion below goes the other way from the
reader's (timm names and PyTorch layouts -> Keras names and TensorFlow layouts) and is written
from Keras's own efficientnet.py and saving code, independently of src/weights/naming/keras.ts.

What Keras 2 (tf.keras, `h5` format) writes, and what is reproduced here:
  - save_weights: root attributes `backend`, `keras_version` (bytes scalars) and `layer_names`
    (a fixed-length bytes array of every layer, weighted or not); one group per layer with the
    attribute `weight_names` (fixed-length bytes array; an empty float64 array for a layer
    without weights, as `np.asarray([])` gives); each weight a float32 dataset at the path
    `<layer>/<weight name>`, so `stem_conv/kernel:0` sits in the subgroup `stem_conv` of the
    group `stem_conv`.
  - model.save: the same under the group `model_weights`, plus a root attribute `model_config`
    (the model's JSON as bytes). The fixture's config lists the layers with their class names
    and the Rescaling layers' scales, which is what the reader looks at.
  - Layouts: Conv2D kernel (kh, kw, in, out); DepthwiseConv2D kernel (kh, kw, channels, 1);
    Dense kernel (in, out); BatchNormalization gamma, beta, moving_mean, moving_variance;
    Normalization mean, variance (shape (3,)) and count (int64 scalar).

Fixtures written (seed 1234, width 0.1, depth 0.34, resolution 64, 10 classes):
  tiny.safetensors           the timm-named source (kept so the pair is self-contained)
  tiny-weights.h5            save_weights, with the `rescaling_1` layer Keras adds for ImageNet weights
  tiny-model.h5              model.save without that layer (a model built with weights=None)
  tiny-notop-weights.h5      save_weights of include_top=False: no avg_pool, top_dropout, predictions
  not-keras.h5               an HDF5 file that is not a Keras file (one dataset, no layer_names)
  nested-model.h5            model.save of a fine-tuned model: EfficientNet (few layers) as one layer, then a Dense
  keras3.weights.h5          the start of Keras 3's own layout (layers/<name>/vars/<n>), which is refused
  fuzz-*.h5                  seeds for the mutation fuzzer: a few layers each, so one case is cheap;
                             fuzz-split.h5 splits layer_names in two, as Keras does past 64 KB, and
                             stores one tensor big-endian and one as float64

Run from the repository root after `npm run build:ts`, with Debian's h5py and numpy
(apt-get install python3-h5py):  /usr/bin/python3 scripts/make-keras-fixtures.py
The tests never run Python.
"""
import json
import re
import struct
import subprocess
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / 'test' / 'fixtures' / 'keras'

SEED = 1234
COEFFICIENTS = {'width': 0.1, 'depth': 0.34, 'resolution': 64, 'dropout': 0.2}
CLASSES = 10
KERAS_VERSION = b'2.13.1'
# A stored "variance" that is really a standard deviation, as in Keras's ImageNet files, but not
# ImageNet's own values, so a test can tell the file's numbers from a default.
NORMALIZATION_MEAN = np.array([0.5, 0.4, 0.3], dtype=np.float32)
NORMALIZATION_VARIANCE = np.array([0.2, 0.25, 0.3], dtype=np.float32)
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]

MAKE_SAFETENSORS = f"""
import {{ writeFileSync }} from 'node:fs';
import {{ buildNetwork }} from './dist/arch/network.js';
import {{ createSyntheticWeights }} from './dist/weights/synthetic.js';
const network = buildNetwork({json.dumps(COEFFICIENTS)}, {CLASSES});
writeFileSync(process.argv[1], createSyntheticWeights({{ variant: network, seed: {SEED} }}));
"""


def read_safetensors(path):
    """name -> float32 array, from the format's definition (8-byte length, JSON header, data)."""
    raw = path.read_bytes()
    (header_length,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + header_length])
    data = raw[8 + header_length:]
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        assert entry['dtype'] == 'F32', entry
        begin, end = entry['data_offsets']
        tensors[name] = np.frombuffer(data[begin:end], dtype='<f4').reshape(entry['shape'])
    return tensors


BN_KEYS = {'weight': 'gamma', 'bias': 'beta', 'running_mean': 'moving_mean', 'running_var': 'moving_variance'}


def conv_kernel(weight):
    """PyTorch (out, in, kh, kw) -> Keras Conv2D (kh, kw, in, out)."""
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0))


def depthwise_kernel(weight):
    """PyTorch (channels, 1, kh, kw) -> Keras DepthwiseConv2D (kh, kw, channels, 1)."""
    return np.ascontiguousarray(weight.transpose(2, 3, 0, 1))


def keras_layers(timm, include_top):
    """[(layer name, [(weight name, array)])] in Keras's layer order, weightless layers included."""
    layers = [('input_1', []), ('rescaling', []), ('normalization', [
        ('normalization/mean:0', NORMALIZATION_MEAN),
        ('normalization/variance:0', NORMALIZATION_VARIANCE),
        ('normalization/count:0', np.array(0, dtype=np.int64)),
    ])]

    def conv(layer, weight):
        return (layer, [(f'{layer}/kernel:0', conv_kernel(weight))])

    def conv_with_bias(layer, prefix):
        return (layer, [(f'{layer}/kernel:0', conv_kernel(timm[f'{prefix}.weight'])), (f'{layer}/bias:0', timm[f'{prefix}.bias'])])

    def bn(layer, prefix):
        return (layer, [(f'{layer}/{BN_KEYS[key]}:0', timm[f'{prefix}.{key}']) for key in BN_KEYS])

    layers += [('stem_conv_pad', []), conv('stem_conv', timm['conv_stem.weight']), bn('stem_bn', 'bn1'), ('stem_activation', [])]
    blocks = sorted({tuple(map(int, m.groups())) for m in (re.match(r'blocks\.(\d+)\.(\d+)\.', n) for n in timm) if m})
    # Stages whose first block has stride 2, in the B0 table: Keras pads those depthwise convs itself.
    strided_stages = {1, 2, 3, 5}
    for stage, index in blocks:
        t = f'blocks.{stage}.{index}'
        k = f'block{stage + 1}{chr(97 + index)}_'
        mbconv = f'{t}.conv_pwl.weight' in timm
        if mbconv:
            layers += [conv(f'{k}expand_conv', timm[f'{t}.conv_pw.weight']), bn(f'{k}expand_bn', f'{t}.bn1'), (f'{k}expand_activation', [])]
        if index == 0 and stage in strided_stages:
            layers.append((f'{k}dwconv_pad', []))
        layers.append((f'{k}dwconv', [(f'{k}dwconv/depthwise_kernel:0', depthwise_kernel(timm[f'{t}.conv_dw.weight']))]))
        layers += [bn(f'{k}bn', f'{t}.bn2' if mbconv else f'{t}.bn1'), (f'{k}activation', []),
                   (f'{k}se_squeeze', []), (f'{k}se_reshape', []),
                   conv_with_bias(f'{k}se_reduce', f'{t}.se.conv_reduce'), conv_with_bias(f'{k}se_expand', f'{t}.se.conv_expand'),
                   (f'{k}se_excite', []),
                   conv(f'{k}project_conv', timm[f'{t}.conv_pwl.weight' if mbconv else f'{t}.conv_pw.weight']),
                   bn(f'{k}project_bn', f'{t}.bn3' if mbconv else f'{t}.bn2')]
        if index > 0:
            layers += [(f'{k}drop', []), (f'{k}add', [])]
    layers += [conv('top_conv', timm['conv_head.weight']), bn('top_bn', 'bn2'), ('top_activation', [])]
    if include_top:
        layers += [('avg_pool', []), ('top_dropout', []), ('predictions', [
            ('predictions/kernel:0', np.ascontiguousarray(timm['classifier.weight'].T)),
            ('predictions/bias:0', timm['classifier.bias']),
        ])]
    return layers


def bytes_array(names):
    """What h5py makes of Keras's list of encoded names: a fixed-length bytes array, or, for an
    empty list, numpy's default empty float64 array."""
    return np.array([n.encode('utf8') for n in names]) if names else np.asarray([])


def write_weights(group, layers, chunks=1):
    """Keras 2's save_weights_to_hdf5_group; `chunks` > 1 splits layer_names as Keras does for long lists."""
    group.attrs['backend'] = b'tensorflow'
    group.attrs['keras_version'] = KERAS_VERSION
    names = [name for name, _ in layers]
    if chunks == 1:
        group.attrs['layer_names'] = bytes_array(names)
    else:
        for index, chunk in enumerate(np.array_split(np.array([n.encode('utf8') for n in names]), chunks)):
            group.attrs[f'layer_names{index}'] = chunk
    for name, weights in layers:
        layer_group = group.create_group(name)
        layer_group.attrs['weight_names'] = bytes_array([w for w, _ in weights])
        for weight_name, value in weights:
            dataset = layer_group.create_dataset(weight_name, value.shape, dtype=value.dtype)
            if value.size > 0:
                dataset[()] = value


def model_config(layers, nested=None):
    """A reduced Functional config, as JSON bytes: each layer's class and name, inputs in order,
    and the Rescaling scales (all the reader takes from it). `nested` maps a layer name to the
    config of a model used as that layer."""
    return json.dumps(model_config_dict(layers, nested or {})).encode('utf8')


def model_config_dict(layers, nested):
    def class_of(name):
        if name == 'input_1':
            return 'InputLayer', {}
        if name == 'rescaling':
            return 'Rescaling', {'scale': 1.0 / 255.0, 'offset': 0.0}
        if name == 'rescaling_1':
            return 'Rescaling', {'scale': [1.0 / std ** 0.5 for std in IMAGENET_STDDEV_RGB], 'offset': 0.0}
        if name == 'normalization':
            return 'Normalization', {'axis': [-1], 'mean': None, 'variance': None, 'invert': False}
        return 'Layer', {}
    entries = []
    previous = None
    for name, _ in layers:
        class_name, config = ('Functional', nested[name]['config']) if name in nested else class_of(name)
        entries.append({'class_name': class_name, 'config': {'name': name, 'trainable': True, 'dtype': 'float32', **config},
                        'name': name, 'inbound_nodes': [] if previous is None else [[[previous, 0, 0, {}]]]})
        previous = name
    return {'class_name': 'Functional', 'config': {'name': 'efficientnet', 'layers': entries}}


def with_imagenet_rescale(layers):
    """Keras inserts Rescaling(1/sqrt(ImageNet std)) after `normalization` when built with ImageNet weights."""
    at = [name for name, _ in layers].index('normalization') + 1
    return layers[:at] + [('rescaling_1', [])] + layers[at:]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    source = OUT / 'tiny.safetensors'
    subprocess.run(['node', '--input-type=module', '-e', MAKE_SAFETENSORS, str(source)], cwd=ROOT, check=True)
    timm = read_safetensors(source)

    with h5py.File(OUT / 'tiny-weights.h5', 'w') as f:
        write_weights(f, with_imagenet_rescale(keras_layers(timm, include_top=True)))

    with h5py.File(OUT / 'tiny-notop-weights.h5', 'w') as f:
        write_weights(f, with_imagenet_rescale(keras_layers(timm, include_top=False)))

    layers = keras_layers(timm, include_top=True)
    with h5py.File(OUT / 'tiny-model.h5', 'w') as f:
        f.attrs['backend'] = b'tensorflow'
        f.attrs['keras_version'] = KERAS_VERSION
        f.attrs['model_config'] = model_config(layers)
        write_weights(f.create_group('model_weights'), layers)

    rng = np.random.default_rng(SEED)
    def values(*shape):
        return rng.standard_normal(shape).astype(np.float32)
    small = [('input_1', []), ('normalization', keras_layers(timm, True)[2][1]),
             ('stem_conv', [('stem_conv/kernel:0', values(3, 3, 3, 2))]),
             ('stem_bn', [(f'stem_bn/{v}:0', values(2)) for v in BN_KEYS.values()]), ('stem_activation', []),
             ('block1a_dwconv', [('block1a_dwconv/depthwise_kernel:0', values(3, 3, 2, 1))]),
             ('predictions', [('predictions/kernel:0', values(2, 3)), ('predictions/bias:0', values(3))])]
    with h5py.File(OUT / 'fuzz-weights.h5', 'w') as f:
        write_weights(f, with_imagenet_rescale(small))
    # Also two dtypes Keras does not write but HDF5 allows, to reach the reader's general path:
    # a big-endian float32 bias and a float64 gamma.
    other_dtypes = {'predictions/bias:0': '>f4', 'stem_bn/gamma:0': '<f8'}
    split = [(name, [(w, v.astype(other_dtypes.get(w, v.dtype))) for w, v in weights]) for name, weights in small]
    with h5py.File(OUT / 'fuzz-split.h5', 'w') as f:
        write_weights(f, split, chunks=2)
    with h5py.File(OUT / 'fuzz-model.h5', 'w') as f:
        f.attrs['backend'] = b'tensorflow'
        f.attrs['keras_version'] = KERAS_VERSION
        f.attrs['model_config'] = model_config(with_imagenet_rescale(small))
        write_weights(f.create_group('model_weights'), with_imagenet_rescale(small))

    # A model fine-tuned on top of an include_top=False EfficientNet, saved whole: the EfficientNet
    # is one layer whose group holds all its weights, and the new head is a Dense named `dense`.
    base = [(name, weights) for name, weights in with_imagenet_rescale(small) if name != 'predictions']
    outer = [('input_2', []), ('efficientnetb0', [w for _, weights in base for w in weights]),
             ('global_average_pooling2d', []), ('dropout', []),
             ('dense', [('dense/kernel:0', values(2, 3)), ('dense/bias:0', values(3))])]
    with h5py.File(OUT / 'nested-model.h5', 'w') as f:
        f.attrs['backend'] = b'tensorflow'
        f.attrs['keras_version'] = KERAS_VERSION
        f.attrs['model_config'] = model_config(outer, {'efficientnetb0': model_config_dict(base, {})})
        write_weights(f.create_group('model_weights'), outer)

    with h5py.File(OUT / 'keras3.weights.h5', 'w') as f:
        f.create_group('layers/stem_conv/vars').create_dataset('0', data=values(3, 3, 3, 2))

    with h5py.File(OUT / 'not-keras.h5', 'w') as f:
        f.create_dataset('values', data=np.arange(6, dtype=np.float32).reshape(2, 3))

    for path in sorted(OUT.iterdir()):
        print(f'{path.relative_to(ROOT)}: {path.stat().st_size} bytes')


if __name__ == '__main__':
    main()
