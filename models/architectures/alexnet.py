"""AlexNet-style network (Krizhevsky et al. 2012), scaled for small faces."""

from __future__ import annotations

import keras
from keras import layers

from emolens.models.architectures._common import classifier_head, conv_bn_relu, model_input


def build_alexnet(input_shape=(48, 48, 1), num_classes: int = 3, width: float = 1.0) -> keras.Model:
    """Five convs (64-128-192-192-128 x `width`), three max pools, two dense layers.

    ~1.2M params at width 1.0; `width=0.5` (~0.3M, ~4x fewer multiply-adds) trains on one CPU
    core in a few minutes per epoch of 48x48 faces.
    """
    if width <= 0:
        raise ValueError(f"width must be > 0; got {width}. Use 1.0 for the full widths.")
    images = model_input(input_shape)

    def w(filters: int) -> int:
        return max(8, round(filters * width))

    x = conv_bn_relu(images, w(64), "conv1", kernel_size=5)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = conv_bn_relu(x, w(128), "conv2", kernel_size=5)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = conv_bn_relu(x, w(192), "conv3")
    x = conv_bn_relu(x, w(192), "conv4")
    x = conv_bn_relu(x, w(128), "conv5")
    x = layers.MaxPooling2D(2, name="pool5")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(w(256), activation="relu", name="fc1")(x)
    return keras.Model(images, classifier_head(x, num_classes, 0.4), name="alexnet")
