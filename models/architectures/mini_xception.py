"""mini-Xception (Arriaga et al. 2017, arXiv:1710.07557): residual depthwise-separable blocks."""

from __future__ import annotations

import keras
from keras import layers

from emolens.models.architectures._common import classifier_head, conv_bn_relu, model_input


def _sep_block(x, filters: int, name: str):
    residual = layers.Conv2D(
        filters, 1, strides=2, padding="same", use_bias=False, name=name + "_res"
    )(x)
    residual = layers.BatchNormalization(name=name + "_res_bn")(residual)
    y = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name + "_sep1")(x)
    y = layers.BatchNormalization(name=name + "_sep1_bn")(y)
    y = layers.ReLU(name=name + "_sep1_relu")(y)
    y = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name + "_sep2")(y)
    y = layers.BatchNormalization(name=name + "_sep2_bn")(y)
    y = layers.MaxPooling2D(3, strides=2, padding="same", name=name + "_pool")(y)
    return layers.Add(name=name)([y, residual])


def build_mini_xception(
    input_shape=(48, 48, 1), num_classes: int = 3, widths: tuple[int, ...] = (32, 64, 128, 256)
) -> keras.Model:
    """Two plain convs then one separable residual block per width; ~0.2M params default."""
    images = model_input(input_shape)
    x = conv_bn_relu(images, 16, "stem1")
    x = conv_bn_relu(x, 16, "stem2")
    for b, width in enumerate(widths, start=1):
        x = _sep_block(x, width, f"block{b}")
    x = conv_bn_relu(x, widths[-1], "top_conv", kernel_size=1)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(images, classifier_head(x, num_classes, 0.3), name="mini_xception")
