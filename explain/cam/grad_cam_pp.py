"""Grad-CAM++: pixel-weighted positive gradients from the closed-form alphas."""

from __future__ import annotations

import keras
import tensorflow as tf

from emolens.explain.cam._gradient import gradient_cam
from emolens.explain.types import Images, Maps, Targets


def _weights(acts: tf.Tensor, grads: tf.Tensor) -> tf.Tensor:
    """Closed-form Grad-CAM++ channel weights: (N, h, w, K) -> (N, K).

    With S = exp(logit), the paper's derivatives are exp(logit) * grads**{1,2,3}. The
    factor exp(logit) cancels in the alphas and only scales each whole map by a positive
    number, which the [0, 1] scaling removes; it is left out so large logits cannot
    overflow. Alphas are normalised per channel as in the authors' code and tf-keras-vis.
    """
    grads2 = tf.square(grads)
    grads3 = grads2 * grads
    total = tf.reduce_sum(acts, axis=(1, 2), keepdims=True)  # (N,1,1,K)
    denom = 2.0 * grads2 + total * grads3
    alphas = grads2 / tf.where(denom != 0.0, denom, tf.ones_like(denom))
    norm = tf.reduce_sum(alphas, axis=(1, 2), keepdims=True)
    alphas = alphas / tf.where(norm != 0.0, norm, tf.ones_like(norm))
    return tf.reduce_sum(alphas * tf.nn.relu(grads), axis=(1, 2))


def grad_cam_pp(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
) -> Maps:
    """Grad-CAM++ heatmaps for a batch of face images.

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

    Reference: Chattopadhay et al., Grad-CAM++, https://arxiv.org/abs/1710.11063
    """
    return gradient_cam(
        model,
        images,
        targets,
        layer,
        weights=_weights,
        batch_size=batch_size,
        caller="grad_cam_pp",
    )
