"""Slow one-image guided backprop for `tests.toy_models.tiny_cnn`, written from the paper.

The network is re-implemented with raw TensorFlow ops from the model's weights; each ReLU
passes gradient only where its input and the incoming gradient are both positive.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


@tf.custom_gradient
def _guided_relu(pre):
    def backward(upstream):
        return upstream * tf.cast(pre > 0, upstream.dtype) * tf.cast(upstream > 0, upstream.dtype)

    return tf.nn.relu(pre), backward


def guided_backprop_one(model: keras.Model, image: np.ndarray, target: int) -> np.ndarray:
    """(H, W, C) image -> (H, W, C) guided gradient of logit `target` of a tiny_cnn."""
    k1, b1 = model.get_layer("conv1").get_weights()
    k2, b2 = model.get_layer("feat").get_weights()
    kd, bd = model.get_layer("logits").get_weights()
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = _guided_relu(tf.nn.conv2d(x, k1, 1, "SAME") + b1)
        h = _guided_relu(tf.nn.conv2d(h, k2, 1, "SAME") + b2)
        logits = tf.reduce_mean(h, axis=(1, 2)) @ kd + bd
        score = logits[0, target]
    return tape.gradient(score, x).numpy()[0]
