"""Max-sensitivity: the largest change of a map under small input noise."""

from __future__ import annotations

import keras
import numpy as np

from emolens.explain.metrics._common import (
    check_maps,
    check_positive_int,
    resolve_method,
    resolve_targets,
)
from emolens.explain.types import Explainer, Images, Maps, Targets


def max_sensitivity(
    model: keras.Model,
    images: Images,
    method: str | Explainer = "grad_cam",
    targets: Targets = None,
    layer: str | None = None,
    *,
    radius: float = 0.02,
    samples: int = 8,
    seed: int | None = 0,
    maps: Maps | None = None,
    **options,
) -> np.ndarray:
    """Largest Frobenius distance between a map and the maps of noisy copies of its image.

    SENS_max = max_j ||map(x + d_j) - map(x)||_F over `samples` draws d_j uniform in
    [-radius, radius] per pixel and channel (the noisy image clipped to [0, 1]), for the
    same target class. Lower is more stable; a method whose map ignores the input scores 0.
    Absolute, as in Yeh et al. (no division by the map's norm): maps from
    `explain.METHODS` are all on the same [0, 1] scale.

    Args:
        model: Keras classifier with a (N, num_classes) output.
        images: float32 (N, H, W, C), values in [0, 1].
        method: a name in `explain.METHODS` or an explainer with that signature.
        targets: class explained, the same for the noisy copies. None: each image's top
            class on the clean image; int or class name; or (N,) ints.
        layer: passed to the method.
        radius: half-width of the uniform noise, in pixel units ([0, 1] images).
        samples: noisy copies per image; all N * samples are explained in one method call.
        seed: seed of the numpy Generator drawing the noise (one (samples, N, H, W, C) draw).
        maps: (N, H, W) maps of the clean images if already computed; None computes them.
        **options: passed to the method (for example batch_size).

    Returns:
        float32 (N,), >= 0.

    Raises:
        ValueError: invalid images, targets, maps, radius or samples, or an unknown method.

    Reference: Yeh et al., On the (In)fidelity and Sensitivity of Explanations,
    https://arxiv.org/abs/1901.09392
    """
    explainer = resolve_method(method, "max_sensitivity")
    samples = check_positive_int(samples, "samples", "max_sensitivity")
    if not radius >= 0:
        raise ValueError(f"max_sensitivity radius must be >= 0; got {radius!r}.")
    images, indices = resolve_targets(model, images, targets, "max_sensitivity")
    if maps is None:
        maps = explainer(model, images, indices, layer, **options)
    maps = check_maps(maps, images, "max_sensitivity")
    noise = np.random.default_rng(seed).uniform(-radius, radius, (samples, *images.shape))
    noisy = np.clip(images[None] + noise, 0.0, 1.0).astype(np.float32)  # (S, N, H, W, C)
    noisy_maps = explainer(
        model, noisy.reshape(-1, *images.shape[1:]), np.tile(indices, samples), layer, **options
    ).reshape(samples, *maps.shape)  # (S, N, H, W)
    distances = np.sqrt(((noisy_maps - maps[None]) ** 2).sum(axis=(2, 3), dtype=np.float64))
    return distances.max(axis=0).astype(np.float32)
