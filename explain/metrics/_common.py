"""Shared plumbing for the metrics: checked maps, targets, scored forward passes, pixel ranks."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain.gradients._common import prepare, top_classes
from emolens.explain.types import Explainer, Images, Maps, Targets

SCORES: tuple[str, ...] = ("logit", "probability")
"""What a model-evaluating metric reads: the target's logit (default, what the gradient
methods explain) or its softmax probability."""


def check_score(score: str, caller: str) -> bool:
    """True for "probability", False for "logit".

    Raises:
        ValueError: any other value.
    """
    if score not in SCORES:
        raise ValueError(f"{caller} score must be one of {SCORES}; got {score!r}.")
    return score == "probability"


def check_maps(maps: object, images: Images, caller: str) -> Maps:
    """Return `maps` as float32 (N, H, W) matching `images` (N, H, W, C).

    Raises:
        ValueError: wrong shape, or NaN/inf values.
    """
    array = np.asarray(maps)
    expected = images.shape[:3]
    if array.shape != expected:
        hint = " For a single map pass maps[None]." if array.shape == expected[1:] else ""
        raise ValueError(
            f"{caller} expects maps shaped (N, H, W) = {expected} to match the images "
            f"{images.shape}; got {array.shape}.{hint} Maps from explain.METHODS already match."
        )
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{caller} got maps with NaN or inf values; fix or drop those maps.")
    return array


def prepare_scored(
    model: keras.Model, images: Images, maps: Maps, targets: Targets, caller: str, batch_size: int
) -> tuple[keras.Model, Images, Maps, np.ndarray]:
    """Logits model, checked images (N,H,W,C), maps (N,H,W), targets (N,) int32 (None -> top)."""
    head, images, indices = prepare(model, images, targets, caller)
    maps = check_maps(maps, images, caller)
    if indices is None:
        indices = top_classes(head, images, batch_size)
    return head, images, maps, indices


def resolve_targets(
    model: keras.Model, images: Images, targets: Targets, caller: str, batch_size: int = 32
) -> tuple[Images, np.ndarray]:
    """Checked images (N,H,W,C) and targets (N,) int32; None -> each image's top class."""
    head, images, indices = prepare(model, images, targets, caller)
    if indices is None:
        indices = top_classes(head, images, batch_size)
    return images, indices


def num_classes(model: keras.Model) -> int:
    """Width of the model's (N, num_classes) output."""
    return int(model.outputs[0].shape[-1])


def resolve_method(method: str | Explainer, caller: str) -> Callable:
    """A method of `explain.METHODS` by name, or the callable itself.

    Raises:
        ValueError: an unknown name.
    """
    if callable(method):
        return method
    from emolens.explain import METHODS  # the package imports this module: import on use

    if method not in METHODS:
        raise ValueError(
            f"{caller} got unknown method {method!r}; pass a callable or one of: "
            f"{', '.join(sorted(METHODS))}."
        )
    return METHODS[method]


def target_scores(head: keras.Model, inputs: tf.Tensor, targets: tf.Tensor, probability: bool):
    """Target logit, or its softmax probability: (B, H, W, C), (B,) -> (B,)."""
    logits = head(inputs, training=False)  # (B, num_classes)
    if probability:
        logits = tf.nn.softmax(logits, axis=-1)
    return tf.gather(logits, targets, batch_dims=1)


@tf.function(reduce_retracing=True)
def _scores(head, inputs, targets, probability):
    return target_scores(head, inputs, targets, probability)


def score_images(
    head: keras.Model, inputs: np.ndarray, targets: np.ndarray, probability: bool, batch_size: int
) -> np.ndarray:
    """Target scores of many images in compiled batches: (M, H, W, C), (M,) -> (M,) float32."""
    scores = np.empty(len(inputs), np.float32)
    for rows in batches(len(inputs), batch_size):
        scores[rows] = _scores(
            head, tf.constant(inputs[rows]), tf.constant(targets[rows]), probability
        ).numpy()
    return scores


def relevance_ranks(maps: Maps) -> np.ndarray:
    """Rank of each pixel, 0 = most relevant: (N, H, W) -> (N, H, W) int32.

    Ties keep row-major pixel order (a stable sort), so the ordering is deterministic.
    """
    flat = maps.reshape(len(maps), -1)
    order = np.argsort(-flat, axis=1, kind="stable")  # (N, P) pixel indices, best first
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(flat.shape[1])[None, :], axis=1)
    return ranks.reshape(maps.shape).astype(np.int32)


def check_positive_int(value: int, name: str, caller: str) -> int:
    """`value` as an int >= 1.

    Raises:
        ValueError: not an int >= 1.
    """
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{caller} {name} must be an int >= 1; got {value!r}.")
    return int(value)
