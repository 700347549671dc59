"""Shared plumbing of the CAM family: input checks, the cached sub-model, batched gradients."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from explain._batch import as_images, as_targets, batches, model_classes
from explain._layers import feature_model
from explain._maps import resize_maps, to_unit_range
from explain.types import Images, Maps, Targets

WeightsFn = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
"""(acts (N,h,w,K), grads (N,h,w,K)) -> weights (N,K) per channel or (N,h,w,K) per position."""


def prepare(
    model: keras.Model, images: Images, targets: Targets, layer: str | None, caller: str
) -> tuple[np.ndarray, keras.Model, np.ndarray]:
    """Check inputs once: images (N,H,W,C) float32, feature model, targets (N,) int32.

    Targets -1 mean "top class of this image" (resolved inside the compiled step).

    Raises:
        ValueError: bad image rank or range, unknown or non-spatial layer, bad targets.
    """
    images = as_images(images, caller)
    features = feature_model(model, layer)
    num_classes = int(features.outputs[1].shape[-1])
    indices = as_targets(targets, len(images), num_classes, model_classes(model))
    if indices is None:
        indices = np.full((len(images),), -1, dtype=np.int32)
    return images, features, indices


def resolve_top(logits: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Targets (N,) with -1 replaced by each row's argmax of logits (N, classes)."""
    top = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.where(targets < 0, top, targets)


def _acts_and_grads(features, images, targets):
    with tf.GradientTape() as tape:
        acts, logits = features(images, training=False)  # (N,h,w,K), (N,classes)
        score = tf.gather(logits, resolve_top(logits, targets), batch_dims=1)  # (N,)
    grads = tape.gradient(score, acts)
    if grads is None:
        raise ValueError(
            "The logits do not depend on the chosen layer's output, so there is no gradient. "
            "Pick a layer on the path to the model's output."
        )
    return acts, grads


def _low_res_maps(features, images, targets, weights_fn):
    acts, grads = _acts_and_grads(features, images, targets)
    weights = weights_fn(acts, grads)  # (N,K) or (N,h,w,K)
    if weights.shape.rank == 2:
        weights = weights[:, None, None, :]
    return tf.nn.relu(tf.reduce_sum(weights * acts, axis=-1))  # (N,h,w)


_COMPILED: dict[WeightsFn, Callable] = {}


def _compiled(weights_fn: WeightsFn) -> Callable:
    """One tf.function per weighting, so methods do not retrace each other's graphs."""
    if weights_fn not in _COMPILED:
        _COMPILED[weights_fn] = tf.function(
            lambda features, images, targets: _low_res_maps(features, images, targets, weights_fn),
            reduce_retracing=True,
        )
    return _COMPILED[weights_fn]


def unit_maps(low_res: np.ndarray, size: tuple[int, int]) -> Maps:
    """ReLU'd (N,h,w) maps -> resized to the image grid (N,H,W) -> each scaled to [0, 1]."""
    return to_unit_range(resize_maps(np.maximum(low_res, 0.0), size))


def gradient_cam(
    model: keras.Model,
    images: Images,
    targets: Targets,
    layer: str | None,
    *,
    weights: WeightsFn,
    batch_size: int = 32,
    caller: str = "gradient_cam",
) -> Maps:
    """Maps ReLU(sum_k weights * acts_k) from the logits' gradients, batch by batch.

    Args:
        model: Keras classifier with a (N, num_classes) output.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: None (top class), int, (N,) ints, or a class name.
        layer: name of a layer with (N, h, w, K) output; None: the last such layer.
        weights: pure tf function of (acts, grads) giving (N, K) or (N, h, w, K) weights.
        batch_size: images per forward/backward pass.
        caller: method name used in error messages.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].
    """
    images, features, indices = prepare(model, images, targets, layer, caller)
    compiled = _compiled(weights)
    maps = np.empty(images.shape[:3], dtype=np.float32)
    for part in batches(len(images), batch_size):
        low_res = compiled(features, tf.constant(images[part]), tf.constant(indices[part]))
        maps[part] = unit_maps(low_res.numpy(), images.shape[1:3])
    return maps
