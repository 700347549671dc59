"""ResNet-18 and ResNet-34 (He et al. 2016) with basic blocks, width-scaled for 48x48 faces."""

from __future__ import annotations

import keras
from keras import layers

from emolens.models.architectures._common import classifier_head, conv_bn_relu, model_input


def _basic_block(x, filters: int, strides: int, name: str):
    """Two 3x3 convs with an identity (or 1x1 projection) shortcut; output named `name`."""
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False, name=name + "_proj")(
            x
        )
        shortcut = layers.BatchNormalization(name=name + "_proj_bn")(shortcut)
    y = conv_bn_relu(x, filters, name + "_a", strides=strides)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name + "_b_conv")(y)
    y = layers.BatchNormalization(name=name + "_b_bn")(y)
    y = layers.Add(name=name + "_add")([y, shortcut])
    return layers.ReLU(name=name)(y)


def _resnet(input_shape, num_classes, blocks, width, name):
    images = model_input(input_shape)
    x = conv_bn_relu(images, width, "stem")
    for stage, count in enumerate(blocks, start=1):
        filters = width * 2 ** (stage - 1)
        for i in range(1, count + 1):
            strides = 2 if (i == 1 and stage > 1) else 1
            x = _basic_block(x, filters, strides, f"stage{stage}_block{i}")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(images, classifier_head(x, num_classes, 0.3), name=name)


def build_resnet18(input_shape=(48, 48, 1), num_classes: int = 3, width: int = 24) -> keras.Model:
    """ResNet-18: [2, 2, 2, 2] basic blocks, stem without max pool; ~1.6M params at width 24."""
    return _resnet(input_shape, num_classes, (2, 2, 2, 2), width, "resnet18")


def build_resnet34(input_shape=(48, 48, 1), num_classes: int = 3, width: int = 16) -> keras.Model:
    """ResNet-34: [3, 4, 6, 3] basic blocks, stem without max pool; ~1.3M params at width 16."""
    return _resnet(input_shape, num_classes, (3, 4, 6, 3), width, "resnet34")
