"""Layer-CAM: activations weighted element-wise by the positive part of the gradient."""

from __future__ import annotations

import keras
import tensorflow as tf

from emolens.explain.cam._gradient import gradient_cam
from emolens.explain.types import Images, Maps, Targets


def _weights(acts: tf.Tensor, grads: tf.Tensor) -> tf.Tensor:
    """ReLU of the gradients, one weight per position: (N, h, w, K)."""
    return tf.nn.relu(grads)


def layer_cam(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
) -> Maps:
    """Layer-CAM heatmaps: ReLU(sum_k ReLU(grads_k) * acts_k); works on shallow layers too.

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

    Reference: Jiang et al., LayerCAM, IEEE TIP 2021, https://doi.org/10.1109/TIP.2021.3089943
    """
    return gradient_cam(
        model, images, targets, layer, weights=_weights, batch_size=batch_size, caller="layer_cam"
    )
