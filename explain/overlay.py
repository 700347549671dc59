"""Heatmap overlays: maps blended over face images as uint8 RGB."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.colors import Colormap

from emolens.explain._maps import resize_maps
from emolens.explain.types import Images, Maps

_NORMALIZE = ("none", "per_map")


def _rgb_images(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 1|3) float in [0, 1] or uint8 -> (N, H, W, 3) float32 in [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            f"overlay expects images shaped (N, H, W, 1) or (N, H, W, 3); got {images.shape}. "
            "For a single image pass images[None]."
        )
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    images = np.clip(images.astype(np.float32), 0.0, 1.0)
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def _scaled_maps(maps: np.ndarray, normalize: str) -> np.ndarray:
    """Maps in [0, 1]: checked as they are ('none') or min-max scaled per map ('per_map')."""
    if normalize == "per_map":
        low = maps.min(axis=(1, 2), keepdims=True)
        span = maps.max(axis=(1, 2), keepdims=True) - low
        return (maps - low) / np.where(span > 0, span, 1.0)
    low, high = float(maps.min()), float(maps.max())
    if low < -1e-3 or high > 1 + 1e-3:
        raise ValueError(
            f"overlay got maps with values in [{low:.3g}, {high:.3g}] and normalize='none'. "
            "Pass maps in [0, 1] (every explain method returns them) or normalize='per_map'."
        )
    return np.clip(maps, 0.0, 1.0)


def overlay(
    images: Images,
    maps: Maps,
    cmap: str | Colormap = "jet",
    alpha: float = 0.4,
    normalize: str = "none",
) -> np.ndarray:
    """Blend colour-mapped heatmaps over images: (1 - alpha) * image + alpha * cmap(map).

    Gray faces are shown as gray RGB (the colormap is applied to the map only).

    Args:
        images: (N, H, W, 1) or (N, H, W, 3), float32 in [0, 1] or uint8.
        maps: (N, h, w) float; resized bilinearly to (H, W) when the sizes differ.
        cmap: matplotlib colormap name or object.
        alpha: weight of the heatmap, 0 (image only) to 1 (heatmap only).
        normalize: 'none': maps must already be in [0, 1]; 'per_map': each map is min-max
            scaled to [0, 1] (a constant map becomes 0).

    Returns:
        uint8 (N, H, W, 3) RGB.

    Raises:
        ValueError: wrong shapes, different N, `alpha` outside [0, 1], unknown `normalize`
            or `cmap`, or maps outside [0, 1] with normalize='none'.
    """
    rgb = _rgb_images(images)
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3 or len(maps) != len(rgb):
        raise ValueError(
            f"overlay expects maps shaped (N, h, w) with N = {len(rgb)} images; got "
            f"{maps.shape}. For a single map pass maps[None]."
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"overlay alpha must be in [0, 1]; got {alpha}.")
    if normalize not in _NORMALIZE:
        raise ValueError(f"Unknown normalize={normalize!r}; choose one of {_NORMALIZE}.")
    try:
        colormap = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    except KeyError:
        raise ValueError(
            f"Unknown colormap {cmap!r}. Use a matplotlib name such as 'jet', 'viridis', 'inferno'."
        ) from None
    maps = _scaled_maps(resize_maps(maps, rgb.shape[1:3]), normalize)
    colours = colormap(maps)[..., :3].astype(np.float32)  # (N, H, W, 3)
    blended = (1.0 - alpha) * rgb + alpha * colours
    return np.clip(np.rint(blended * 255.0), 0, 255).astype(np.uint8)
