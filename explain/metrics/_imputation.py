"""Noisy linear imputation (ROAD): removed pixels solved from their neighbours, plus noise."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import spsolve

NEIGHBOURS: tuple[tuple[int, int, float], ...] = (
    (-1, -1, 1 / 12), (-1, 0, 1 / 6), (-1, 1, 1 / 12),
    (0, -1, 1 / 6),                   (0, 1, 1 / 6),
    (1, -1, 1 / 12),  (1, 0, 1 / 6),  (1, 1, 1 / 12),
)  # fmt: skip
"""(dy, dx, weight): edge neighbours weigh 1/6, diagonal ones 1/12 (Rong et al. 2022)."""


def linear_impute(image: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Fill removed pixels with the solution of the neighbour-average equations.

    Each removed pixel equals the weighted mean of its in-bounds neighbours (NEIGHBOURS,
    renormalised at the border); kept pixels stay fixed. One sparse system per image,
    channels as right-hand sides. Needs at least one kept pixel.

    Args:
        image: float (H, W, C).
        removed: bool (H, W).

    Returns:
        float64 (H, W, C), kept pixels unchanged.
    """
    height, width, channels = image.shape
    values = image.reshape(-1, channels).astype(np.float64)
    missing = np.flatnonzero(removed.ravel())  # (M,) flat pixel indices
    if missing.size == 0:
        return values.reshape(image.shape)
    unknown = np.full(height * width, -1, dtype=np.int64)
    unknown[missing] = np.arange(missing.size)
    rows, cols = np.divmod(missing, width)
    diagonal = np.zeros(missing.size)
    rhs = np.zeros((missing.size, channels))
    entries = ([], [], [])  # equation, unknown, value
    for dy, dx, weight in NEIGHBOURS:
        y, x = rows + dy, cols + dx
        inside = (y >= 0) & (y < height) & (x >= 0) & (x < width)
        equations = np.flatnonzero(inside)
        neighbours = y[inside] * width + x[inside]
        diagonal[equations] += weight
        known = unknown[neighbours] < 0
        rhs[equations[known]] += weight * values[neighbours[known]]
        entries[0].append(equations[~known])
        entries[1].append(unknown[neighbours[~known]])
        entries[2].append(np.full((~known).sum(), -weight))
    eq, var, val = (np.concatenate(e) for e in entries)
    eq = np.concatenate([eq, np.arange(missing.size)])
    var = np.concatenate([var, np.arange(missing.size)])
    val = np.concatenate([val, diagonal])
    system = csr_matrix((val, (eq, var)), shape=(missing.size, missing.size))
    solved = spsolve(system.tocsc(), rhs).reshape(missing.size, channels)
    filled = values.copy()
    filled[missing] = solved
    return filled.reshape(image.shape)


def noisy_linear_impute(
    images: np.ndarray, removed: np.ndarray, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """`linear_impute` of each image plus N(0, noise^2) on the filled values only.

    Args:
        images: float (N, H, W, C).
        removed: bool (N, H, W).
        noise: standard deviation of the Gaussian noise added to imputed values.
        rng: numpy Generator; one (M, C) draw per image, in order.

    Returns:
        float32 (N, H, W, C).
    """
    filled = np.empty(images.shape, np.float32)
    for i, (image, mask) in enumerate(zip(images, removed, strict=True)):
        imputed = linear_impute(image, mask)
        if noise > 0:
            imputed[mask] += noise * rng.standard_normal((int(mask.sum()), image.shape[-1]))
        filled[i] = imputed
    return filled
