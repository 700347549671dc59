"""Input checks for the localisation metrics: maps against boolean masks."""

from __future__ import annotations

import numpy as np

from emolens.explain.types import Maps


def check_maps_masks(maps: object, masks: object, caller: str) -> tuple[Maps, np.ndarray]:
    """Return maps as float32 (N, H, W) >= 0 and masks as bool (N, H, W), checked.

    Raises:
        ValueError: shapes differ or are not 3-D, negative or non-finite map values, mask
            values other than 0/1, or an empty mask.
    """
    maps, masks = np.asarray(maps), np.asarray(masks)
    if maps.ndim != 3 or maps.shape != masks.shape:
        raise ValueError(
            f"{caller} expects maps and masks shaped (N, H, W), the same shape; got maps "
            f"{maps.shape} and masks {masks.shape}. For one map pass maps[None], masks[None]."
        )
    maps = maps.astype(np.float32, copy=False)
    if not np.isfinite(maps).all() or (maps < 0).any():
        raise ValueError(
            f"{caller} expects finite, non-negative maps (relevance); got values in "
            f"[{np.nanmin(maps):.3g}, {np.nanmax(maps):.3g}]. Keep the positive part: "
            "np.maximum(maps, 0)."
        )
    if masks.dtype != bool:
        if not np.isin(masks, (0, 1)).all():
            raise ValueError(f"{caller} expects bool (or 0/1) masks; got dtype {masks.dtype}.")
        masks = masks.astype(bool)
    empty = np.flatnonzero(~masks.reshape(len(masks), -1).any(axis=1))
    if empty.size:
        raise ValueError(
            f"{caller}: masks {empty[:5].tolist()} are empty; each mask needs at least one "
            "pixel (drop those images)."
        )
    return maps, masks
