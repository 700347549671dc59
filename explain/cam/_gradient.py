"""Shared plumbing of the CAM family: input checks, the cached sub-model, batched gradients."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import as_images, as_targets, batches, model_classes
from emolens.explain._layers import feature_model
from emolens.explain._maps import resize_maps, to_unit_range, unit_maps_graph
from emolens.explain.types import Images, Maps, Targets

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
    images = as_images(images, caller, model)
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


_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def cached_step(model: keras.Model, key: Hashable, build: Callable[[], Callable]) -> Callable:
    """The compiled step `build()` for (model, key), built once, cached weakly by `model`.

    Steps close over sub-models of `model` (never `model` itself), so the cache entry dies
    with the model. Closing over them, instead of passing a model to a `tf.function`, skips
    deriving the model's tracing type on every call (0.3 ms or more per call on a 2-core CPU),
    and a concrete function with a fixed signature never retraces for a new batch size.
    """
    steps = _STEPS.setdefault(model, {})
    if key not in steps:
        steps[key] = build()
    return steps[key]


def image_specs(shape: tuple[int, ...]) -> tuple[tf.TensorSpec, tf.TensorSpec]:
    """Fixed signatures (images (N, H, W, C) float32, targets (N,) int32): no retracing."""
    return tf.TensorSpec((None, *shape), tf.float32), tf.TensorSpec((None,), tf.int32)


def _gradient_step(features: keras.Model, weights_fn: WeightsFn, shape: tuple[int, ...]):
    """Concrete fn images (N,H,W,C), targets (N,) -> unit maps (N,H,W), all in one graph."""

    def step(images, targets):
        low_res = _low_res_maps(features, images, targets, weights_fn)  # (N,h,w)
        return unit_maps_graph(low_res, shape[:2])  # (N,H,W)

    return tf.function(step).get_concrete_function(*image_specs(shape))


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
        layer: name of a layer with (N, h, w, K) output or ViT tokens; None: the default.
        weights: pure tf function of (acts, grads) giving (N, K) or (N, h, w, K) weights.
        batch_size: images per forward/backward pass.
        caller: method name used in error messages.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    One compiled call per batch does the forward, backward, weighting, ReLU, resize and
    [0, 1] scaling; its maps are copied into one preallocated array.
    """
    images, features, indices = prepare(model, images, targets, layer, caller)
    shape = images.shape[1:]
    step = cached_step(
        model, (features, weights, shape), lambda: _gradient_step(features, weights, shape)
    )
    maps = np.empty(images.shape[:3], dtype=np.float32)  # filled batch by batch, nothing kept
    for part in batches(len(images), batch_size):
        maps[part] = step(tf.constant(images[part]), tf.constant(indices[part])).numpy()
    return maps
