"""Tiny Keras models whose right explanation is known on paper (shared test helpers)."""

from __future__ import annotations

import keras
import numpy as np


def linear_pixel_model(weights: np.ndarray, bias: np.ndarray | None = None) -> keras.Model:
    """Class k's logit is sum(weights[k] * x) + bias[k]; ends Dense "logits" -> Softmax "probs".

    Args:
        weights: (num_classes, H, W, C) float32 per-pixel weights.
        bias: (num_classes,) or None for zeros.
    """
    weights = np.asarray(weights, dtype=np.float32)
    num_classes, shape = weights.shape[0], weights.shape[1:]
    images = keras.Input(shape=shape, name="image")
    flat = keras.layers.Flatten(name="flat")(images)
    logits = keras.layers.Dense(num_classes, name="logits")(flat)
    model = keras.Model(images, keras.layers.Softmax(name="probs")(logits), name="linear_pixel")
    kernel = weights.reshape(num_classes, -1).T  # (H*W*C, num_classes)
    bias = np.zeros(num_classes, np.float32) if bias is None else np.asarray(bias, np.float32)
    model.get_layer("logits").set_weights([kernel, bias])
    return model


def region_sum_model(
    input_shape: tuple[int, int, int], region: tuple[int, int, int, int], scale: float = 1.0
) -> keras.Model:
    """Two classes: logit 0 = scale * sum of x[y0:y1, x0:x1, :], logit 1 = 0."""
    y0, y1, x0, x1 = region
    weights = np.zeros((2, *input_shape), dtype=np.float32)
    weights[0, y0:y1, x0:x1, :] = scale
    return linear_pixel_model(weights)


def tiny_cnn(input_shape: tuple[int, int, int] = (12, 12, 1), num_classes: int = 3) -> keras.Model:
    """Random conv net: "conv1" (ReLU) -> "feat" -> ReLU -> GAP -> Dense "logits" -> Softmax."""
    images = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(images)
    x = keras.layers.Conv2D(8, 3, padding="same", name="feat")(x)
    x = keras.layers.ReLU(name="feat_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(images, keras.layers.Softmax(name="probs")(logits), name="tiny_cnn")


def pooled_cnn(input_shape=(16, 16, 3), num_classes=3) -> keras.Model:
    """Chain CNN with an 8x8 feature grid, so maps are upsampled to the image."""
    images = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(images)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", name="feat")(x)
    x = keras.layers.ReLU(name="feat_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(images, keras.layers.Softmax(name="probs")(logits), name="pooled_cnn")


def tiny_cnn_parity_setup(image_seed: int, n: int = 4):
    """(tiny_cnn (12x12x1, 3 classes, seed 0), its logits model, n random images) for parity.

    tf-keras-vis needs the logits model: its ReplaceToLinear ignores a separate Softmax layer.
    """
    keras.utils.set_random_seed(0)
    model = tiny_cnn((12, 12, 1), num_classes=3)
    logits = keras.Model(model.inputs, model.get_layer("logits").output)
    images = np.random.default_rng(image_seed).random((n, 12, 12, 1), dtype=np.float32)
    return model, logits, images


def linear_probe_model(input_shape: tuple[int, int, int] = (8, 8, 1)) -> keras.Model:
    """1x1 conv "feat" with channels +x, -x (x: channel 0) -> GAP -> identity Dense -> Softmax.

    Class 0's logit is mean(x), class 1's is -mean(x): Grad-CAM of class 0 is the image itself.
    """
    images = keras.Input(shape=input_shape, name="image")
    feat = keras.layers.Conv2D(2, 1, use_bias=False, name="feat")(images)
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(feat)
    logits = keras.layers.Dense(2, name="logits")(pooled)
    model = keras.Model(images, keras.layers.Softmax(name="probs")(logits), name="linear_probe")
    kernel = np.zeros((1, 1, input_shape[-1], 2), np.float32)
    kernel[..., 0, 0], kernel[..., 0, 1] = 1.0, -1.0
    model.get_layer("feat").set_weights([kernel])
    model.get_layer("logits").set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32)])
    return model


def nested_linear_probe_model(input_shape: tuple[int, int, int] = (8, 8, 1)) -> keras.Model:
    """linear_probe_model with conv + GAP inside a nested functional model named "backbone"."""
    probe = linear_probe_model(input_shape)
    backbone = keras.Model(probe.inputs, probe.get_layer("gap").output, name="backbone")
    images = keras.Input(shape=input_shape, name="image")
    logits = probe.get_layer("logits")(backbone(images))
    return keras.Model(images, keras.layers.Softmax(name="probs")(logits), name="nested_probe")


def two_half_model(shape: tuple[int, int, int] = (8, 8, 1), scale: float = 0.2) -> keras.Model:
    """Class 0's logit = scale * sum of the top half of the image, class 1's of the bottom half."""
    half = shape[0] // 2
    weights = np.zeros((2, *shape), np.float32)
    weights[0, :half], weights[1, half:] = scale, scale
    return linear_pixel_model(weights)


def two_half_images(shape: tuple[int, int, int] = (8, 8, 1)) -> np.ndarray:
    """Two images whose top classes under `two_half_model` are 0 and 1 (bright top / bottom)."""
    half = shape[0] // 2
    images = np.full((2, *shape), 0.2, np.float32)
    images[0, :half] = np.linspace(0.5, 1.0, half * shape[1] * shape[2]).reshape(half, *shape[1:])
    images[1, half:] = np.linspace(1.0, 0.5, half * shape[1] * shape[2]).reshape(half, *shape[1:])
    return images
