"""Eigen-CAM: the activations projected on their first principal component (class-agnostic)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain._maps import unit_maps_graph
from emolens.explain.cam._gradient import cached_step, image_specs, prepare
from emolens.explain.types import Images, Maps, Targets


def _projections(features, images):
    acts, _ = features(images, training=False)  # (N,h,w,K)
    shape = tf.shape(acts)
    flat = tf.reshape(acts, (shape[0], shape[1] * shape[2], shape[3]))  # (N,hw,K)
    _, _, right = tf.linalg.svd(flat)  # right: (N,K,min(hw,K))
    projection = tf.linalg.matvec(flat, right[..., 0])  # (N,hw)
    sign = tf.where(tf.reduce_sum(projection, axis=1, keepdims=True) < 0.0, -1.0, 1.0)
    return tf.reshape(projection * sign, shape[:3])  # (N,h,w)


def _eigen_step(features: keras.Model, shape: tuple[int, ...]):
    """Concrete fn images (N,H,W,C) -> unit maps (N,H,W): projection, ReLU, resize, scale."""

    def step(images):
        return unit_maps_graph(_projections(features, images), shape[:2])

    return tf.function(step).get_concrete_function(image_specs(shape)[0])


def eigen_cam(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
) -> Maps:
    """Eigen-CAM heatmaps: activations projected on their first principal component.

    Each image's (h*w, K) activations are projected on their first right singular vector
    (no centring, as in the paper), signed so the projection sums to >= 0, then ReLU.

    The map does not depend on the class: `targets` is only validated.

    Args:
        model: Keras classifier with a (N, num_classes) output.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: validated like the other methods (None, int, (N,) ints, class name), unused.
        layer: name of a layer with (N, h, w, K) output, or a ViT token layer (N, T, K)
            seen on its patch grid. Default: the last such layer; on a ViT the input of
            its last attention block.
        batch_size: images per forward pass.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: `images` is not 4-D, unknown or non-spatial `layer`, bad target.

    Reference: Muhammad & Yeasin, Eigen-CAM, https://arxiv.org/abs/2008.00299
    """
    images, features, _ = prepare(model, images, targets, layer, "eigen_cam")
    shape = images.shape[1:]
    step = cached_step(model, ("eigen_cam", features, shape), lambda: _eigen_step(features, shape))
    maps = np.empty(images.shape[:3], dtype=np.float32)
    for part in batches(len(images), batch_size):
        maps[part] = step(tf.constant(images[part])).numpy()
    return maps
