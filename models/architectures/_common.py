"""Shared pieces of the zoo architectures: the classifier head and conv blocks."""

from __future__ import annotations

import keras
from keras import layers


def classifier_head(features, num_classes: int, dropout: float = 0.3):
    """(N, K) features -> logits Dense named "logits" -> Softmax layer named "probs"."""
    if dropout:
        features = layers.Dropout(dropout, name="head_dropout")(features)
    logits = layers.Dense(num_classes, name="logits")(features)
    return layers.Softmax(name="probs")(logits)


def conv_bn_relu(x, filters: int, name: str, kernel_size: int = 3, strides: int = 1):
    """Conv (no bias) -> BatchNorm -> ReLU; the ReLU output is named `name`."""
    x = layers.Conv2D(
        filters, kernel_size, strides=strides, padding="same", use_bias=False, name=name + "_conv"
    )(x)
    x = layers.BatchNormalization(name=name + "_bn")(x)
    return layers.ReLU(name=name)(x)


def to_rgb(images, name: str = "to_rgb"):
    """(N, H, W, 1) -> (N, H, W, 3) by repeating the gray channel; identity for 3 channels."""
    if images.shape[-1] == 3:
        return images
    return layers.Concatenate(name=name)([images, images, images])


def model_input(input_shape: tuple[int, int, int]) -> keras.KerasTensor:
    """The zoo's image input: float32 (N, H, W, C) in [0, 1], named "image"."""
    if len(input_shape) != 3:
        raise ValueError(
            f"input_shape must be (H, W, C); got {input_shape}. For 48x48 gray use (48, 48, 1)."
        )
    return keras.Input(shape=tuple(input_shape), name="image")
