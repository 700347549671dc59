"""Guided Grad-CAM: guided-backprop detail masked by the Grad-CAM heatmap."""

from __future__ import annotations

import keras

from emolens.explain._maps import to_unit_range
from emolens.explain.cam.grad_cam import grad_cam
from emolens.explain.gradients._common import channel_magnitude, prepare, top_classes
from emolens.explain.gradients.guided_backprop import guided_backprop_gradients
from emolens.explain.types import Images, Maps, Targets


def guided_grad_cam(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
) -> Maps:
    """Guided Grad-CAM maps: max |guided-backprop gradient| over channels x Grad-CAM.

    Args:
        model: Keras classifier with a (N, num_classes) output; gradients are taken on logits.
            Guided backprop re-calls the model's layers in a separate graph; the model itself
            is not modified.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: class to explain. None: each image's top class; int or class name: the same
            class for all; (N,) ints: one class per image.
        layer: Grad-CAM layer with (N, h, w, K) output. Default: the last such layer.
        batch_size: images per forward/backward pass.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: invalid `images` or `targets`, or `layer` is not a spatial layer.

    Reference: Selvaraju et al., Grad-CAM, https://arxiv.org/abs/1610.02391 (section 3.1)
    """
    head, images, indices = prepare(model, images, targets, "guided_grad_cam")
    if indices is None:
        indices = top_classes(head, images, batch_size)
    cams = grad_cam(model, images, indices, layer, batch_size=batch_size)  # (N, H, W)
    guided = guided_backprop_gradients(model, images, indices, batch_size=batch_size)
    return to_unit_range(channel_magnitude(guided) * cams)
