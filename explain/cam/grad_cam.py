"""Grad-CAM: channels weighted by the spatial mean of the logit's gradient."""

from __future__ import annotations

import keras
import tensorflow as tf

from emolens.explain.cam._gradient import gradient_cam
from emolens.explain.types import Images, Maps, Targets


def _weights(acts: tf.Tensor, grads: tf.Tensor) -> tf.Tensor:
    """Spatial mean of the gradients: (N, h, w, K) -> (N, K)."""
    return tf.reduce_mean(grads, axis=(1, 2))


def grad_cam(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
) -> Maps:
    """Grad-CAM heatmaps for a batch of face images.

    Args:
        model: Keras classifier with a (N, num_classes) output; gradients are taken on its
            logits (a final softmax is bypassed).
        images: float32 (N, H, W, C), values in [0, 1].
        targets: class to explain. None: each image's top class; int or class name: the same
            class for all; (N,) ints: one class per image.
        layer: name of a layer with (N, h, w, K) output ('outer/inner' inside nested models),
            or a ViT token layer (N, 1 + h*w, K), explained on its (h, w) patch grid with the
            class token dropped. Default: the last spatial layer; on a ViT the input of its
            last attention block (after it only the class token reaches the head).
        batch_size: images per forward/backward pass.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: `images` is not 4-D, `layer` is not a spatial layer of `model`, or a
            target is out of range.

    Reference: Selvaraju et al., Grad-CAM, https://arxiv.org/abs/1610.02391
    """
    return gradient_cam(
        model, images, targets, layer, weights=_weights, batch_size=batch_size, caller="grad_cam"
    )
