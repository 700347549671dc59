"""Shared plumbing for perturbation methods: checked inputs and target probabilities."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from emolens.explain.gradients._common import prepare, top_classes
from emolens.explain.types import Images, Targets


def prepare_targets(
    model: keras.Model, images: Images, targets: Targets, caller: str, batch_size: int
) -> tuple[keras.Model, Images, np.ndarray]:
    """Logits model, checked images (N, H, W, C) and targets (N,) int32 (None -> top class)."""
    head, images, indices = prepare(model, images, targets, caller)
    if indices is None:
        indices = top_classes(head, images, batch_size)
    return head, images, indices


def target_probs(head: keras.Model, inputs: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Softmax probability of each input's target class: (B, H, W, C), (B,) -> (B,)."""
    probs = tf.nn.softmax(head(inputs, training=False), axis=-1)
    return tf.gather(probs, targets, batch_dims=1)
