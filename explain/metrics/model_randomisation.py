"""Cascading model-parameter randomisation: does the map change when the weights do?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from emolens.explain._layers import _walk
from emolens.explain.metrics._common import resolve_method, resolve_targets
from emolens.explain.metrics._similarity import spearman, ssim
from emolens.explain.types import Explainer, Images, Targets


@dataclass(frozen=True)
class Randomisation:
    """Similarity of each randomised model's maps to the original model's maps.

    Attributes:
        layers: layer names in the order they were randomised, top (output) first; row l
            is the model with layers[: l + 1] all randomised.
        spearman: float32 (L, N) Spearman rank correlation per layer step and image.
        ssim: float32 (L, N) structural similarity per layer step and image.
        maps: float32 (L, N, H, W) randomised maps when asked for (`keep_maps=True`), else None.
        original: float32 (N, H, W) maps of the intact model.
    """

    layers: tuple[str, ...]
    spearman: np.ndarray
    ssim: np.ndarray
    maps: np.ndarray | None
    original: np.ndarray


def _has_kernel(layer: keras.layers.Layer) -> bool:
    names = [w.path.rsplit("/", 1)[-1] for w in layer.trainable_weights]
    return any(name.endswith("kernel") or name == "embeddings" for name in names)


def randomisable_layers(model: keras.Model) -> list[str]:
    """Names of layers holding a kernel (Conv*, Dense, attention, ...), output first.

    Nested models' layers are included as 'outer/inner'; normalisation layers are not
    (they hold no kernel).
    """
    return [
        name
        for name, layer, _ in reversed(list(_walk(model)))
        if not isinstance(layer, keras.Model) and _has_kernel(layer)
    ]


def _layer(model: keras.Model, name: str) -> keras.layers.Layer:
    for qualified, layer, _ in _walk(model):
        if qualified == name:
            return layer
    raise ValueError(
        f"model_randomisation: layer {name!r} is not in model {model.name!r}. "
        f"Layers with weights: {', '.join(randomisable_layers(model))}."
    )


def _reinitialise(layer: keras.layers.Layer, seed: int) -> None:
    """Redraw every trainable weight of `layer` from its own initializer, seeded.

    `kernel` uses `layer.kernel_initializer`, `bias` `layer.bias_initializer` and so on;
    a weight without one (a sub-layer's) is drawn Glorot-uniform (>= 2-D) or zeroed (1-D).
    """
    for i, weight in enumerate(layer.trainable_weights):
        name = weight.path.rsplit("/", 1)[-1]
        initializer = getattr(layer, f"{name}_initializer", None)
        if not isinstance(initializer, keras.initializers.Initializer):
            initializer = keras.initializers.get("glorot_uniform" if weight.ndim >= 2 else "zeros")
        config = initializer.get_config()
        if "seed" in config:
            initializer = type(initializer).from_config({**config, "seed": seed + i})
        weight.assign(initializer(tuple(weight.shape), dtype=weight.dtype))


def model_randomisation(
    model: keras.Model,
    images: Images,
    method: str | Explainer = "grad_cam",
    targets: Targets = None,
    layer: str | None = None,
    *,
    layers: Sequence[str] | None = None,
    seed: int = 0,
    keep_maps: bool = False,
    **options,
) -> Randomisation:
    """Cascading randomisation: re-initialise layers top-down, compare maps at each step.

    A copy of `model` is made (the model passed in is never changed); its layers are
    re-initialised one after another from the output down, cumulatively, each weight
    redrawn from the layer's own initializer (the distribution it had before training).
    After each layer the maps are recomputed for the same targets and compared with the
    intact model's maps. A map that stays similar does not depend on what the model learnt.

    Args:
        model: Keras classifier with a (N, num_classes) output.
        images: float32 (N, H, W, C), values in [0, 1].
        method: a name in `explain.METHODS` or an explainer with that signature.
        targets: class explained, kept fixed for every randomised model. None: each image's
            top class under the intact model; int or class name; or (N,) ints.
        layer: passed to the method (for CAMs: the layer explained).
        layers: layers to randomise, in order. Default: every layer with a kernel
            (`randomisable_layers`), output first.
        seed: base seed of the re-initialisation (layer l uses seed + 1000 * l + weight index).
        keep_maps: also return the randomised maps (L, N, H, W).
        **options: passed to the method (for example batch_size).

    Returns:
        `Randomisation` with (L, N) `spearman` and `ssim`, the layer order and the maps.

    Raises:
        ValueError: invalid images or targets, an unknown method or layer.

    Reference: Adebayo et al., Sanity Checks for Saliency Maps,
    https://arxiv.org/abs/1810.03292
    """
    explainer = resolve_method(method, "model_randomisation")
    images, indices = resolve_targets(model, images, targets, "model_randomisation")
    original = explainer(model, images, indices, layer, **options)
    names = list(randomisable_layers(model) if layers is None else layers)
    for name in names:
        _layer(model, name)  # check every name before the slow part
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    rows, kept = [], []
    for step, name in enumerate(names):
        _reinitialise(_layer(clone, name), seed + 1000 * step)
        maps = explainer(clone, images, indices, layer, **options)
        rows.append((spearman(original, maps), ssim(original, maps)))
        if keep_maps:
            kept.append(maps)
    empty = np.zeros((0, len(images)), np.float32)
    return Randomisation(
        layers=tuple(names),
        spearman=np.stack([r[0] for r in rows]) if rows else empty,
        ssim=np.stack([r[1] for r in rows]) if rows else empty,
        maps=np.stack(kept) if kept else None,
        original=original,
    )
