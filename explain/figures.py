"""Matplotlib figures: method-by-image grids of overlays and contour plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import Colormap

from emolens.explain._maps import resize_maps
from emolens.explain._notebook_figure import NotebookFigure as Figure
from emolens.explain.overlay import _rgb_images, overlay
from emolens.explain.types import Images, Maps


def plot_grid(
    images: Images,
    maps_by_method: Mapping[str, Maps],
    titles: Sequence[str] | None = None,
    *,
    cmap: str | Colormap = "jet",
    alpha: float = 0.4,
    normalize: str = "none",
    show_images: bool = True,
    cell_size: float = 1.8,
) -> Figure:
    """Grid of overlays: one row per method (after a row of inputs), one column per image.

    Args:
        images: (N, H, W, 1|3) float32 in [0, 1] or uint8.
        maps_by_method: method name -> (N, h, w) maps, e.g. {"grad_cam": maps, ...}.
        titles: N column titles (e.g. predicted classes), or None.
        cmap: matplotlib colormap name or object, as in `explain.overlay`.
        alpha: weight of the heatmap, as in `explain.overlay`.
        normalize: 'none' or 'per_map', as in `explain.overlay`.
        show_images: add a first row with the plain images.
        cell_size: inches per grid cell.

    Returns:
        A matplotlib Figure with (len(maps_by_method) + show_images) x N axes.

    Raises:
        ValueError: no methods, or `titles` does not have N entries (plus `overlay`'s checks).
    """
    rgb = _rgb_images(images)
    if not maps_by_method:
        raise ValueError("plot_grid needs at least one method in maps_by_method; got none.")
    if titles is not None and len(titles) != len(rgb):
        raise ValueError(f"plot_grid got {len(titles)} titles for {len(rgb)} images.")
    rows = [("image", rgb)] if show_images else []
    rows += [
        (name, overlay(rgb, maps, cmap=cmap, alpha=alpha, normalize=normalize))
        for name, maps in maps_by_method.items()
    ]
    figure = Figure(figsize=(cell_size * len(rgb), cell_size * len(rows)), layout="constrained")
    axes = figure.subplots(len(rows), len(rgb), squeeze=False)
    for r, (name, pictures) in enumerate(rows):
        for c, picture in enumerate(pictures):
            axes[r, c].imshow(picture)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if c == 0:
                axes[r, c].set_ylabel(name)
            if r == 0 and titles is not None:
                axes[r, c].set_title(titles[c])
    return figure


def plot_contours(
    image: np.ndarray,
    map: np.ndarray,
    levels: Sequence[float] = (0.25, 0.5, 0.75),
    *,
    cmap: str | Colormap = "jet",
    size: float = 3.0,
) -> Figure:
    """One image with iso-lines of its map at `levels`.

    Args:
        image: (H, W, 1|3) float32 in [0, 1] or uint8.
        map: (h, w) map in [0, 1]; resized to (H, W) when the sizes differ.
        levels: map values at which to draw contour lines, increasing.
        cmap: colormap of the contour lines.
        size: figure size in inches.

    Returns:
        A matplotlib Figure with one axes.

    Raises:
        ValueError: `image` is not (H, W, C) or `map` is not (h, w).
    """
    image, map = np.asarray(image), np.asarray(map, dtype=np.float32)
    if image.ndim != 3 or map.ndim != 2:
        raise ValueError(
            f"plot_contours expects one image (H, W, C) and one map (h, w); got {image.shape} "
            f"and {map.shape}. For a batch, pass images[i] and maps[i]."
        )
    rgb = _rgb_images(image[None])[0]
    resized = resize_maps(map[None], rgb.shape[:2])[0]
    figure = Figure(figsize=(size, size), layout="constrained")
    axes = figure.subplots()
    axes.imshow(rgb)
    axes.contour(resized, levels=sorted(levels), cmap=cmap)
    axes.set_axis_off()
    return figure
