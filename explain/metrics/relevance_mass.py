"""Relevance mass: the share of a map's total relevance that falls on the mask."""

from __future__ import annotations

import numpy as np

from emolens.explain.metrics._masks import check_maps_masks
from emolens.explain.types import Maps


def relevance_mass(maps: Maps, masks: np.ndarray) -> np.ndarray:
    """Sum of the map inside the mask divided by its sum over the image.

    A map spread uniformly at random scores the mask's area fraction on average; a map
    that is zero outside the mask scores 1. An all-zero map scores 0 (no mass anywhere).

    Args:
        maps: float (N, H, W), non-negative relevance.
        masks: bool (N, H, W), the region the relevance should fall on (0/1 ints accepted).

    Returns:
        float32 (N,) in [0, 1].

    Raises:
        ValueError: shapes differ, negative or non-finite maps, or an empty mask.

    Reference: Arras et al., CLEVR-XAI: A benchmark dataset for the ground truth evaluation
    of neural network explanations, https://doi.org/10.1016/j.inffus.2021.11.008
    """
    maps, masks = check_maps_masks(maps, masks, "relevance_mass")
    total = maps.sum(axis=(1, 2), dtype=np.float64)
    inside = np.where(masks, maps, 0.0).sum(axis=(1, 2), dtype=np.float64)
    return np.where(total > 0, inside / np.where(total > 0, total, 1.0), 0.0).astype(np.float32)
