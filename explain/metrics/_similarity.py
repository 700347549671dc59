"""Map-to-map similarity for the sanity checks: Spearman rank correlation and SSIM, per map."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from skimage.metrics import structural_similarity

from emolens.explain.types import Maps


def spearman(maps: Maps, others: Maps) -> np.ndarray:
    """Spearman rank correlation of each pair of maps: (N, H, W) x2 -> (N,) float32.

    The Pearson correlation of average ranks, as scipy.stats.spearmanr, vectorised over
    maps. A flat map has no ranking: against a different map it scores 0, against an equal
    flat map 1 (spearmanr would return NaN).
    """
    ranks = rankdata(maps.reshape(len(maps), -1), axis=1)  # (N, P) float64
    other = rankdata(others.reshape(len(others), -1), axis=1)
    ranks -= ranks.mean(axis=1, keepdims=True)
    other -= other.mean(axis=1, keepdims=True)
    norms = np.sqrt((ranks**2).sum(axis=1) * (other**2).sum(axis=1))
    flat = norms == 0
    equal = (maps == others).reshape(len(maps), -1).all(axis=1)
    rho = (ranks * other).sum(axis=1) / np.where(flat, 1.0, norms)
    return np.where(flat, np.where(equal, 1.0, 0.0), rho).astype(np.float32)


def ssim(maps: Maps, others: Maps) -> np.ndarray:
    """Structural similarity of each pair of maps (scikit-image, data range 1): (N,) float32.

    Uses skimage.metrics.structural_similarity with its default 7x7 uniform window (smaller
    odd window on maps under 7 pixels a side).
    """
    side = min(maps.shape[1:3])
    window = min(7, side if side % 2 else side - 1)
    return np.asarray(
        [
            structural_similarity(a, b, data_range=1.0, win_size=window)
            for a, b in zip(maps, others, strict=True)
        ],
        dtype=np.float32,
    )
