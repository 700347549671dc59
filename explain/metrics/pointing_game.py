"""Pointing game: does the map's peak fall on the mask?"""

from __future__ import annotations

import cv2
import numpy as np

from emolens.explain.metrics._masks import check_maps_masks
from emolens.explain.types import Maps


def _near(masks: np.ndarray, tolerance: float) -> np.ndarray:
    """Pixels within `tolerance` (Euclidean, pixels) of each mask: (N, H, W) bool."""
    if tolerance == 0:
        return masks
    outside = (~masks).astype(np.uint8)
    distances = [cv2.distanceTransform(o, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) for o in outside]
    return np.stack(distances) <= tolerance


def pointing_game(maps: Maps, masks: np.ndarray, *, tolerance: float = 0.0) -> np.ndarray:
    """Hit (1.0) when every pixel at the map's maximum lies on the mask, else miss (0.0).

    Ties count strictly: a flat map (all-zero included) points nowhere and hits only a mask
    that covers the whole image. With a unique peak this is the usual arg-max rule.

    Args:
        maps: float (N, H, W), non-negative relevance.
        masks: bool (N, H, W), the region the map should point at (0/1 ints accepted).
        tolerance: pixels; the mask is grown by this Euclidean distance first (Zhang et al.
            use 15 px on 224 px images). 0: exact.

    Returns:
        float32 (N,) of 0.0 and 1.0; its mean is the hit rate.

    Raises:
        ValueError: shapes differ, negative maps, an empty mask, or negative tolerance.

    Reference: Zhang et al., Top-down Neural Attention by Excitation Backprop,
    https://arxiv.org/abs/1608.00507
    """
    maps, masks = check_maps_masks(maps, masks, "pointing_game")
    if tolerance < 0:
        raise ValueError(f"pointing_game tolerance is a distance >= 0; got {tolerance!r}.")
    peaks = maps == maps.max(axis=(1, 2), keepdims=True)  # (N, H, W)
    return (~peaks | _near(masks, tolerance)).all(axis=(1, 2)).astype(np.float32)
