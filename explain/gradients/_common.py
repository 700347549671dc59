"""Shared plumbing for input-gradient methods: input checks, targets, batched path gradients."""

from __future__ import annotations

from collections.abc import Iterator

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import as_images, as_targets, batches, model_classes
from emolens.explain._layers import logits_model
from emolens.explain.types import Images, Targets


def prepare(
    model: keras.Model, images: Images, targets: Targets, caller: str
) -> tuple[keras.Model, Images, np.ndarray | None]:
    """Checked images (N, H, W, C), targets (N,) int32 or None, and the cached logits model."""
    images = as_images(images, caller, model)
    head = logits_model(model)
    num_classes = int(head.outputs[0].shape[-1])
    return head, images, as_targets(targets, len(images), num_classes, model_classes(model))


def top_classes(head: keras.Model, images: Images, batch_size: int) -> np.ndarray:
    """Arg-max class of each image: (N, H, W, C) -> (N,) int32."""
    return np.concatenate(
        [
            np.argmax(np.asarray(head(images[rows], training=False)), axis=-1)
            for rows in batches(len(images), batch_size)
        ]
    ).astype(np.int32)


def target_gradients(head: keras.Model, inputs: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Gradient of each input's target logit w.r.t. the input: (B, H, W, C) -> same."""
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        logits = head(inputs, training=False)  # (B, num_classes)
        score = tf.gather(logits, targets, batch_dims=1)  # (B,)
    return tape.gradient(score, inputs)


def pair_chunks(
    num_images: int, num_points: int, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(image index, point index) int32 pairs, image-major, in chunks of `batch_size`."""
    for rows in batches(num_images * num_points, batch_size):
        flat = np.arange(rows.start, rows.stop, dtype=np.int32)
        yield flat // num_points, flat % num_points


def channel_magnitude(grads: np.ndarray) -> np.ndarray:
    """Max |value| over channels: (N, H, W, C) -> (N, H, W)."""
    return np.abs(grads).max(axis=-1)
