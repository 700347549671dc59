"""HiResCAM: activations multiplied element-wise by the logit's gradient."""

from __future__ import annotations

import keras
import tensorflow as tf

from emolens.explain.cam._gradient import gradient_cam
from emolens.explain.types import Images, Maps, Targets


def _weights(acts: tf.Tensor, grads: tf.Tensor) -> tf.Tensor:
    """The gradients themselves, one weight per position: (N, h, w, K)."""
    return grads


def hires_cam(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
) -> Maps:
    """HiResCAM heatmaps: ReLU(sum_k grads_k * acts_k), faithful to the logit for GAP heads.

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

    Reference: Draelos & Carin, HiResCAM, https://arxiv.org/abs/2011.08891
    """
    return gradient_cam(
        model, images, targets, layer, weights=_weights, batch_size=batch_size, caller="hires_cam"
    )
