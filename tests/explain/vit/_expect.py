"""Turn class-token rows over patches into the maps the public functions must return."""

from __future__ import annotations

import numpy as np

from emolens.explain._maps import resize_maps, to_unit_range


def expected_maps(rows: np.ndarray, image_size: int) -> np.ndarray:
    """(N, T - 1) rows on a square patch grid -> (N, S, S) float32 in [0, 1]."""
    rows = np.asarray(rows, np.float32)
    grid = int(round(np.sqrt(rows.shape[1])))
    return to_unit_range(resize_maps(rows.reshape(-1, grid, grid), (image_size, image_size)))
