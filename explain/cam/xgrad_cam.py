"""XGrad-CAM: channels weighted by activation-weighted gradients."""

from __future__ import annotations

import keras
import tensorflow as tf

from emolens.explain.cam._gradient import gradient_cam
from emolens.explain.types import Images, Maps, Targets

_EPS = 1e-7


def _weights(acts: tf.Tensor, grads: tf.Tensor) -> tf.Tensor:
    """sum_hw(grads * acts) / sum_hw(acts): (N, h, w, K) -> (N, K); 0 where sum_hw(acts) = 0."""
    total = tf.reduce_sum(acts, axis=(1, 2))
    safe = tf.where(tf.abs(total) > _EPS, total, tf.ones_like(total))
    weights = tf.reduce_sum(grads * acts, axis=(1, 2)) / safe
    return tf.where(tf.abs(total) > _EPS, weights, tf.zeros_like(weights))


def xgrad_cam(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
) -> Maps:
    """XGrad-CAM heatmaps (axiom-based Grad-CAM).

    Args:
        model: Keras classifier with a (N, num_classes) output (its logits are used).
        images: float32 (N, H, W, C), values in [0, 1].
        targets: None: each image's top class; int or class name: one for all; (N,) ints.
        layer: name of a layer with (N, h, w, K) output, or a ViT token layer (N, T, K)
            seen on its patch grid. Default: the last such layer; on a ViT the input of
            its last attention block.
        batch_size: images per forward/backward pass.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: `images` is not 4-D, unknown or non-spatial `layer`, bad target.

    Reference: Fu et al., Axiom-based Grad-CAM, https://arxiv.org/abs/2008.02312
    """
    return gradient_cam(
        model, images, targets, layer, weights=_weights, batch_size=batch_size, caller="xgrad_cam"
    )
