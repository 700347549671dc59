"""Shared plumbing for perturbation methods: checked inputs and target scores."""

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


SCORES: tuple[str, ...] = ("logit", "probability")
"""What a perturbation method measures: the target's logit (default, as the gradient methods)
or its softmax probability."""


def check_score(score: str, caller: str) -> bool:
    """True for "probability", False for "logit".

    Raises:
        ValueError: any other value.
    """
    if score not in SCORES:
        raise ValueError(
            f'{caller} score must be one of {SCORES}; got {score!r}. "logit" explains the '
            'class logit like the gradient methods, "probability" its softmax probability.'
        )
    return score == "probability"


def target_scores(
    head: keras.Model, inputs: tf.Tensor, targets: tf.Tensor, probability: bool
) -> tf.Tensor:
    """Each input's target logit, or softmax probability: (B, H, W, C), (B,) -> (B,)."""
    logits = head(inputs, training=False)
    if probability:
        logits = tf.nn.softmax(logits, axis=-1)
    return tf.gather(logits, targets, batch_dims=1)
