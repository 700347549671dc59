"""Random-logit check: does the map change when another class is explained?"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from emolens.explain.metrics._common import num_classes, resolve_method, resolve_targets
from emolens.explain.metrics._similarity import spearman, ssim
from emolens.explain.types import Explainer, Images, Targets


@dataclass(frozen=True)
class RandomLogit:
    """Similarity of each image's map for its target and for a random other class.

    Attributes:
        targets: int32 (N,) classes explained first.
        others: int32 (N,) the random other class per image (never the target).
        spearman: float32 (N,) Spearman rank correlation of the two maps.
        ssim: float32 (N,) structural similarity of the two maps.
    """

    targets: np.ndarray
    others: np.ndarray
    spearman: np.ndarray
    ssim: np.ndarray


def random_logit(
    model: keras.Model,
    images: Images,
    method: str | Explainer = "grad_cam",
    targets: Targets = None,
    layer: str | None = None,
    *,
    seed: int = 0,
    **options,
) -> RandomLogit:
    """Compare the map of each target with the map of a random other class.

    The retrain-free form of Adebayo et al.'s label randomisation (which retrains on
    permuted labels): the model stays as it is and a different logit is explained, drawn
    uniformly from the other classes (Sixt et al.'s random-logit test, as in Quantus'
    RandomLogit). A map that stays similar is not class-specific. Randomising the last
    Dense layer instead is the first row of `model_randomisation`.

    Args:
        model: Keras classifier with a (N, num_classes) output, at least 2 classes.
        images: float32 (N, H, W, C), values in [0, 1].
        method: a name in `explain.METHODS` or an explainer with that signature.
        targets: class explained first. None: each image's top class; int or class name;
            or (N,) ints.
        layer: passed to the method.
        seed: seed of the numpy Generator drawing the other classes.
        **options: passed to the method (for example batch_size).

    Returns:
        `RandomLogit` with (N,) targets, other classes, Spearman and SSIM.

    Raises:
        ValueError: invalid images or targets, an unknown method, or a one-class model.

    Reference: Sixt et al., When Explanations Lie: Why Many Modified BP Attributions Fail,
    https://arxiv.org/abs/1912.09818; Adebayo et al., https://arxiv.org/abs/1810.03292
    """
    explainer = resolve_method(method, "random_logit")
    classes = num_classes(model)
    if classes < 2:
        raise ValueError(f"random_logit needs a model with >= 2 classes; got {classes}.")
    images, indices = resolve_targets(model, images, targets, "random_logit")
    shift = np.random.default_rng(seed).integers(1, classes, size=len(images))
    others = ((indices + shift) % classes).astype(np.int32)  # uniform over the other classes
    maps = explainer(model, images, indices, layer, **options)
    other_maps = explainer(model, images, others, layer, **options)
    return RandomLogit(indices, others, spearman(maps, other_maps), ssim(maps, other_maps))
