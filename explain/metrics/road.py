"""ROAD: remove pixels by relevance, impute them from their neighbours, score the model."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from emolens.explain._batch import batches
from emolens.explain.metrics._common import (
    check_positive_int,
    check_score,
    prepare_scored,
    relevance_ranks,
    score_images,
)
from emolens.explain.metrics._imputation import noisy_linear_impute
from emolens.explain.types import Images, Maps, Targets

ORDERS: tuple[str, ...] = ("morf", "lerf")
FRACTIONS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _check(order: str, fractions: Sequence[float], noise: float, orders: tuple[str, ...]):
    """Fractions as float64 (F,) in [0, 1), after checking every option.

    Raises:
        ValueError: unknown order, fractions outside [0, 1), or negative noise.
    """
    if order not in orders:
        raise ValueError(f"road order must be one of {orders}; got {order!r}.")
    values = np.asarray(fractions, dtype=np.float64).reshape(-1)
    if values.size == 0 or (values < 0).any() or (values >= 1).any():
        raise ValueError(
            f"road fractions must be in [0, 1) (at least one pixel must stay to impute from); "
            f"got {list(fractions)!r}."
        )
    if noise < 0:
        raise ValueError(f"road noise is a standard deviation, >= 0; got {noise!r}.")
    return values


def road_curve(
    model: keras.Model,
    images: Images,
    maps: Maps,
    targets: Targets = None,
    *,
    order: str = "morf",
    fractions: Sequence[float] = FRACTIONS,
    noise: float = 0.01,
    seed: int | None = 0,
    score: str = "logit",
    batch_size: int = 128,
) -> np.ndarray:
    """Target score after removing a fraction of pixels and imputing them (ROAD).

    Removed pixels (all channels) are filled by noisy linear imputation: each equals the
    weighted mean of its 8 neighbours (edge 1/6, diagonal 1/12), solved jointly as one
    sparse linear system per image, plus Gaussian noise; this leaves no sharp mask edges
    for the model to react to, so the score measures the information removed.

    Args:
        model: Keras classifier with a (N, num_classes) output.
        images: float32 (N, H, W, C), values in [0, 1].
        maps: float (N, H, W) relevance, higher = more relevant (only the order counts; ties
            keep row-major pixel order).
        targets: class to score. None: each image's top class; int or class name: the same
            class for all; (N,) ints: one class per image.
        order: "morf" removes the most relevant pixels first (a faithful map makes the score
            fall fast), "lerf" the least relevant first (the score should stay).
        fractions: (F,) fractions of pixels removed, each in [0, 1); round(f * H * W) pixels.
        noise: standard deviation of the noise added to imputed values (0: none).
        seed: seed of the noise (numpy Generator, one draw per image and fraction in order).
        score: "logit" (default; what the gradient methods explain) or "probability".
        batch_size: images imputed per block and images per compiled forward pass.

    Returns:
        float32 (N, F): column f scores the image with fractions[f] of its pixels imputed.

    Raises:
        ValueError: invalid images, maps, targets, order, fractions, noise or score.

    Reference: Rong et al., A Consistent and Efficient Evaluation Strategy for Attribution
    Methods, https://arxiv.org/abs/2202.00449
    """
    values = _check(order, fractions, noise, ORDERS)
    batch_size = check_positive_int(batch_size, "batch_size", "road_curve")
    prob = check_score(score, "road_curve")
    head, images, maps, indices = prepare_scored(
        model, images, maps, targets, "road_curve", batch_size
    )
    ranks = relevance_ranks(maps)  # (N, H, W), 0 = most relevant
    if order == "lerf":
        ranks = maps[0].size - 1 - ranks  # 0 = least relevant
    counts = np.round(values * maps[0].size).astype(np.int64)  # (F,)
    rng = np.random.default_rng(seed)
    curves = np.empty((len(images), len(counts)), np.float32)
    for block in batches(len(images), batch_size):
        removed = ranks[block, None] < counts[None, :, None, None]  # (B, F, H, W)
        repeated = np.repeat(images[block], len(counts), axis=0)  # (B*F, H, W, C)
        filled = noisy_linear_impute(repeated, removed.reshape(-1, *maps.shape[1:]), noise, rng)
        block_targets = np.repeat(indices[block], len(counts))
        scores = score_images(head, filled, block_targets, prob, batch_size)
        curves[block] = scores.reshape(-1, len(counts))
    return curves


def road(
    model: keras.Model,
    images: Images,
    maps: Maps,
    targets: Targets = None,
    *,
    order: str = "combined",
    fractions: Sequence[float] = FRACTIONS,
    noise: float = 0.01,
    seed: int | None = 0,
    score: str = "logit",
    batch_size: int = 128,
) -> np.ndarray:
    """ROAD score per image: mean over `fractions` of the imputed images' target scores.

    Same arguments as `road_curve`, and `order`:
        "morf": mean MoRF score (lower is better), "lerf": mean LeRF score (higher is
        better), "combined" (default): mean of (LeRF - MoRF) / 2 (higher is better; the
        intact image's score cancels, as in pytorch-grad-cam's ROADCombined). The MoRF and
        LeRF passes draw their noise from the same `seed`.

    Returns:
        float32 (N,), in units of the score.
    """
    _check(order, fractions, noise, (*ORDERS, "combined"))
    options = dict(fractions=fractions, noise=noise, seed=seed, score=score, batch_size=batch_size)
    if order != "combined":
        return road_curve(model, images, maps, targets, order=order, **options).mean(axis=1)
    morf = road_curve(model, images, maps, targets, order="morf", **options)
    lerf = road_curve(model, images, maps, targets, order="lerf", **options)
    return ((lerf - morf) / 2).mean(axis=1).astype(np.float32)
