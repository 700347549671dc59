"""VGG-style network (Simonyan & Zisserman 2014) with a global-average-pooling head."""

from __future__ import annotations

import keras
from keras import layers

from emolens.models.architectures._common import classifier_head, conv_bn_relu, model_input


def build_vgg(
    input_shape=(48, 48, 1),
    num_classes: int = 3,
    widths: tuple[int, ...] = (48, 96, 192, 320),
    convs_per_block: int = 2,
) -> keras.Model:
    """Blocks of `convs_per_block` 3x3 convs, max pool between blocks; ~2.3M params default.

    Layer names: block{b}_conv{i} (ReLU outputs); the last conv is the default CAM layer.
    """
    images = model_input(input_shape)
    x = images
    for b, width in enumerate(widths, start=1):
        for i in range(1, convs_per_block + 1):
            x = conv_bn_relu(x, width, f"block{b}_conv{i}")
        if b < len(widths):
            x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
            x = layers.SpatialDropout2D(0.1, name=f"block{b}_drop")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(images, classifier_head(x, num_classes, 0.4), name="vgg")
