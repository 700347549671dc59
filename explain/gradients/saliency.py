"""Vanilla gradient saliency: max |d logit / d pixel| over channels."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain._maps import to_unit_range
from emolens.explain.gradients._common import channel_magnitude, prepare
from emolens.explain.types import Images, Maps, Targets


@tf.function(reduce_retracing=True)
def _gradients(head, images, targets):
    """Input gradients of the target logit; targets < 0 mean the top class: (B,H,W,C)."""
    with tf.GradientTape() as tape:
        tape.watch(images)
        logits = head(images, training=False)  # (B, num_classes)
        top = tf.argmax(logits, axis=-1, output_type=tf.int32)
        chosen = tf.where(targets < 0, top, targets)  # (B,)
        score = tf.gather(logits, chosen, batch_dims=1)
    return tape.gradient(score, images)


def saliency(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
) -> Maps:
    """Vanilla-gradient saliency maps for a batch of face images.

    Args:
        model: Keras classifier with a (N, num_classes) output; gradients are taken on logits.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: class to explain. None: each image's top class; int or class name: the same
            class for all; (N,) ints: one class per image.
        layer: unused (pixel-space method); accepted for the common signature.
        batch_size: images per forward/backward pass.

    Returns:
        float32 (N, H, W): max over channels of |gradient|, each map scaled to [0, 1].

    Raises:
        ValueError: `images` is not 4-D or outside [0, 1], or `targets` is invalid.

    Reference: Simonyan et al., Deep Inside Convolutional Networks,
    https://arxiv.org/abs/1312.6034
    """
    head, images, indices = prepare(model, images, targets, "saliency")
    if indices is None:
        indices = np.full((len(images),), -1, dtype=np.int32)
    grads = np.concatenate(
        [
            _gradients(head, tf.constant(images[rows]), tf.constant(indices[rows])).numpy()
            for rows in batches(len(images), batch_size)
        ]
    )  # (N, H, W, C)
    return to_unit_range(channel_magnitude(grads))
