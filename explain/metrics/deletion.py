"""Deletion: how fast the target score falls as the most relevant pixels are removed first."""

from __future__ import annotations

import keras
import numpy as np

from emolens.explain.metrics._curve import curve_auc, ordered_curve
from emolens.explain.types import Images, Maps, Targets


def deletion_curve(
    model: keras.Model,
    images: Images,
    maps: Maps,
    targets: Targets = None,
    *,
    steps: int = 32,
    baseline: str | float | np.ndarray = "black",
    score: str = "logit",
    batch_size: int = 128,
) -> np.ndarray:
    """Target score while pixels are replaced by the baseline, most relevant first.

    Args:
        model: Keras classifier with a (N, num_classes) output.
        images: float32 (N, H, W, C), values in [0, 1].
        maps: float (N, H, W) relevance, higher = more relevant (any scale; only the order
            counts; ties keep row-major pixel order).
        targets: class to score. None: each image's top class; int or class name: the same
            class for all; (N,) ints: one class per image.
        steps: curve points after the start; step s has replaced round(s * H * W / steps)
            pixels (all channels of a pixel together), so the last step is the baseline.
        baseline: what removed pixels become: "black" (zeros, default), "blur" (Gaussian
            blur of the image), "mean" (the image's per-channel mean), a number, or an
            array broadcastable to (N, H, W, C).
        score: "logit" (default; what the gradient methods explain) or "probability"
            (softmax of the logits).
        batch_size: images per block and (image, step) pairs per compiled forward pass.

    Returns:
        float32 (N, steps + 1): column 0 scores the intact image, column `steps` the baseline.

    Raises:
        ValueError: invalid images, maps, targets, baseline, score or steps.

    Reference: Petsiuk et al., RISE, https://arxiv.org/abs/1806.07421
    """
    return ordered_curve(
        "deletion_curve", model, images, maps, targets, steps=steps, baseline=baseline,
        score=score, batch_size=batch_size, insert=False,
    )  # fmt: skip


def deletion_auc(
    model: keras.Model,
    images: Images,
    maps: Maps,
    targets: Targets = None,
    *,
    steps: int = 32,
    baseline: str | float | np.ndarray = "black",
    score: str = "logit",
    batch_size: int = 128,
) -> np.ndarray:
    """Area under the deletion curve; lower means a more faithful map.

    Same arguments as `deletion_curve`. The area is the trapezoid rule over the fraction of
    pixels removed, x in [0, 1], in units of the score (logits, or probabilities).

    Returns:
        float32 (N,).
    """
    curves = deletion_curve(
        model, images, maps, targets, steps=steps, baseline=baseline, score=score,
        batch_size=batch_size,
    )  # fmt: skip
    return curve_auc(curves)
