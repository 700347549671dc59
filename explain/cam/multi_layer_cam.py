"""Multi-layer CAM: Grad-CAM or Layer-CAM maps of several layers fused into one."""

from __future__ import annotations

import keras
import numpy as np

from emolens.explain._layers import find_layer, spatial_layers
from emolens.explain._maps import to_unit_range
from emolens.explain.cam.grad_cam import grad_cam
from emolens.explain.cam.layer_cam import layer_cam
from emolens.explain.types import Images, Maps, Targets

_BASES = {"grad_cam": grad_cam, "layer_cam": layer_cam}
_FUSIONS = ("mean", "max")


def default_layers(model: keras.Model, count: int = 3) -> list[str]:
    """The last spatial layer of each of the last `count` feature-grid sizes, shallow first."""
    last_of_size: dict[tuple, str] = {}
    for name in spatial_layers(model):
        size = tuple(find_layer(model, name)[1].output.shape[1:3])
        last_of_size.pop(size, None)
        last_of_size[size] = name
    return list(last_of_size.values())[-count:]


def multi_layer_cam(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
    layers: list[str] | None = None,
    base: str = "layer_cam",
    fuse: str = "mean",
) -> Maps:
    """Fused heatmaps: each layer's `base` map scaled to [0, 1], then their mean or max.

    Args:
        model: Keras classifier with a (N, num_classes) output (its logits are used).
        images: float32 (N, H, W, C), values in [0, 1].
        targets: None: each image's top class; int or class name: one for all; (N,) ints.
        layer: one extra layer to include (with `layers`), or the only one.
        batch_size: images per forward/backward pass.
        layers: names of spatial layers to fuse (`layer`, when given, is added). Default:
            `[layer]` when `layer` is given, else the last layer of each of the last three
            feature-grid sizes.
        base: "layer_cam" (shallow layers stay sharp) or "grad_cam".
        fuse: "mean" or "max" of the per-layer maps.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: bad images, layers, targets, `base` or `fuse`.

    Reference: Jiang et al., LayerCAM (multi-layer fusion), IEEE TIP 2021.
    """
    if base not in _BASES:
        raise ValueError(f"multi_layer_cam base must be one of {list(_BASES)}; got {base!r}.")
    if fuse not in _FUSIONS:
        raise ValueError(f"multi_layer_cam fuse must be one of {list(_FUSIONS)}; got {fuse!r}.")
    if layers is None:
        layers = [layer] if layer is not None else default_layers(model) or [None]
    elif layer is not None and layer not in layers:
        layers = [*layers, layer]
    if not layers:
        raise ValueError("multi_layer_cam needs at least one layer; got an empty list.")
    maps = [_BASES[base](model, images, targets, name, batch_size=batch_size) for name in layers]
    return to_unit_range(np.mean(maps, axis=0) if fuse == "mean" else np.max(maps, axis=0))
