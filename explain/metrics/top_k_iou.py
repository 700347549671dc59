"""Top-k IoU: overlap between a map's k most relevant pixels and the mask."""

from __future__ import annotations

import numpy as np

from emolens.explain.metrics._common import relevance_ranks
from emolens.explain.metrics._masks import check_maps_masks
from emolens.explain.types import Maps


def _counts(k: int | float | None, masks: np.ndarray) -> np.ndarray:
    """Pixels kept per map: (N,) int; None -> each mask's area."""
    num_pixels = masks[0].size
    if k is None:
        return masks.reshape(len(masks), -1).sum(axis=1)
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 1 <= k <= num_pixels:
        return np.full(len(masks), int(k))
    if isinstance(k, float) and 0 < k <= 1:
        return np.full(len(masks), max(1, round(k * num_pixels)))
    raise ValueError(
        f"top_k_iou k must be None (the mask's area), an int in [1, {num_pixels}] or a "
        f"float fraction in (0, 1]; got {k!r}."
    )


def top_k_iou(maps: Maps, masks: np.ndarray, *, k: int | float | None = None) -> np.ndarray:
    """Intersection over union of the map's top-k pixels and the mask.

    Args:
        maps: float (N, H, W), non-negative relevance; ties keep row-major pixel order.
        masks: bool (N, H, W) (0/1 ints accepted).
        k: pixels kept. None (default): as many as the mask has, so a map equal to the mask
            scores 1; an int: that many; a float in (0, 1]: that fraction of the image.

    Returns:
        float32 (N,) in [0, 1]. With k = mask area, a random map averages
        a / (2 - a) for mask area fraction a.

    Raises:
        ValueError: shapes differ, negative maps, an empty mask, or an invalid k.
    """
    maps, masks = check_maps_masks(maps, masks, "top_k_iou")
    counts = _counts(k, masks)  # (N,)
    top = relevance_ranks(maps) < counts[:, None, None]  # (N, H, W)
    intersection = (top & masks).sum(axis=(1, 2))
    union = (top | masks).sum(axis=(1, 2))
    return (intersection / union).astype(np.float32)
