"""Line up maps from several models and methods on the same faces, with their agreement."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
from scipy import stats

from emolens.explain._batch import as_images
from emolens.explain._notebook_figure import NotebookFigure as Figure
from emolens.explain.types import Images, Targets


@dataclass(frozen=True)
class Comparison:
    """Maps of several (model, method) pairs on the same images and how much they agree.

    Attributes:
        images: float32 (N, H, W, C) the faces explained.
        maps: {"model/method": float32 (N, H, W) in [0, 1]}, in the order computed.
        table: one row per pair of maps: a, b, spearman (rank correlation) and iou (top
            `top_fraction` pixels), each averaged over images.
        top_fraction: share of pixels forming each map's top region for the IoU.
    """

    images: Images
    maps: dict[str, np.ndarray]
    table: pd.DataFrame
    top_fraction: float


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (any shape); NaN when one is constant."""
    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.spearmanr(a, b).statistic)


def top_mask(map_: np.ndarray, fraction: float) -> np.ndarray:
    """Boolean mask of the ceil(fraction * size) highest pixels; ties go to the earlier pixel."""
    flat = np.ravel(map_)
    count = max(1, int(np.ceil(fraction * flat.size)))
    mask = np.zeros(flat.size, bool)
    mask[np.argsort(-flat, kind="stable")[:count]] = True
    return mask.reshape(np.shape(map_))


def top_iou(a: np.ndarray, b: np.ndarray, fraction: float = 0.1) -> float:
    """Intersection over union of the top-`fraction` pixel regions of two maps."""
    mask_a, mask_b = top_mask(a, fraction), top_mask(b, fraction)
    return float((mask_a & mask_b).sum() / (mask_a | mask_b).sum())


def _plan(models: Mapping[str, keras.Model], methods) -> list[tuple[str, str]]:
    """(model name, method name) pairs to run."""
    if isinstance(methods, str):
        methods = [methods]
    if isinstance(methods, Mapping):
        unknown = set(methods) - set(models)
        if unknown:
            raise ValueError(
                f"methods is keyed by model name; {sorted(unknown)} are not among the models "
                f"{list(models)}. Pass a list to run every method on every model."
            )
        plan = [
            (model, method)
            for model, chosen in methods.items()
            for method in ([chosen] if isinstance(chosen, str) else chosen)
        ]
    else:
        plan = [(model, method) for model in models for method in methods]
    return list(dict.fromkeys(plan))  # a repeated pair is computed once


def compare(
    models: Mapping[str, keras.Model],
    images: Images,
    methods: Mapping[str, str | Sequence[str]] | Sequence[str] | str,
    targets: Targets = None,
    *,
    top_fraction: float = 0.1,
    **options,
) -> Comparison:
    """Explain the same faces with several models and methods and measure their agreement.

    Args:
        models: {name: Keras classifier}, e.g. {"vgg": cnn, "vit": vit}.
        images: float32 (N, H, W, C), values in [0, 1], a size every model accepts.
        methods: names in `explain.METHODS` (looked up at call time). A list runs every
            method on every model; a dict {model name: method or list} picks per model, e.g.
            {"vgg": "grad_cam", "vit": "attention_rollout"}.
        targets: passed to every method. None: each model's own top class.
        top_fraction: share of pixels in each map's top region for the IoU, in (0, 1].
        **options: keyword options passed to every method (e.g. batch_size=16).

    Returns:
        Comparison with maps {"model/method": (N, H, W)} and a table of pairwise Spearman
        correlation and top-region IoU, averaged over images (NaN correlations, from flat
        maps, are left out of the average).

    Raises:
        ValueError: an unknown method or model name, fewer than two maps (one pair), bad
            `top_fraction`.
    """
    from emolens.explain import METHODS

    images = as_images(images, "compare")
    if not 0.0 < top_fraction <= 1.0:
        raise ValueError(f"top_fraction must be in (0, 1]; got {top_fraction}.")
    plan = _plan(models, methods)
    for _, method in plan:
        if method not in METHODS:
            raise ValueError(f"Unknown method {method!r}. Known methods: {', '.join(METHODS)}.")
    if len(plan) < 2:
        raise ValueError(
            f"compare needs at least two maps to compare; models {list(models)} with methods "
            f"{methods!r} give {len(plan)}. Pass two models, or two methods."
        )
    maps = {
        f"{model}/{method}": METHODS[method](models[model], images, targets, **options)
        for model, method in plan
    }
    rows = []
    for a, b in itertools.combinations(maps, 2):
        rhos = [spearman(x, y) for x, y in zip(maps[a], maps[b], strict=True)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN mean -> NaN
            rho = float(np.nanmean(rhos))
        ious = [top_iou(x, y, top_fraction) for x, y in zip(maps[a], maps[b], strict=True)]
        rows.append({"a": a, "b": b, "spearman": rho, "iou": float(np.mean(ious))})
    table = pd.DataFrame(rows, columns=["a", "b", "spearman", "iou"])
    return Comparison(images, maps, table, top_fraction)


def plot_comparison(comparison: Comparison, max_images: int = 4, alpha: float = 0.5) -> Figure:
    """Figure: one row per face, its maps side by side, and the mean Spearman matrix.

    Args:
        comparison: result of `compare`.
        max_images: rows to draw (the first images).
        alpha: opacity of each map over its gray face.

    Returns:
        matplotlib Figure (not attached to pyplot); maps drawn with vmin=0, vmax=1.
    """
    names = list(comparison.maps)
    rows = min(max_images, len(comparison.images))
    figure = Figure(figsize=(1.8 * (len(names) + 1) + 3.2, 1.9 * rows + 0.6))
    grid = figure.add_gridspec(rows, len(names) + 2, width_ratios=[1] * (len(names) + 1) + [1.8])
    for row in range(rows):
        face = comparison.images[row].mean(axis=-1)
        for col, name in enumerate([None, *names]):
            axes = figure.add_subplot(grid[row, col])
            axes.imshow(face, cmap="gray", vmin=0.0, vmax=1.0)
            if name is not None:
                axes.imshow(comparison.maps[name][row], cmap="jet", vmin=0, vmax=1, alpha=alpha)
            if row == 0:
                axes.set_title(name or "face", fontsize=7)
            axes.set_axis_off()
    matrix = np.eye(len(names))
    for _, pair in comparison.table.iterrows():
        i, j = names.index(pair.a), names.index(pair.b)
        matrix[i, j] = matrix[j, i] = pair.spearman
    axes = figure.add_subplot(grid[:, -1])
    image = axes.imshow(matrix, cmap="coolwarm", vmin=-1, vmax=1)
    axes.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
    axes.set_yticks(range(len(names)), names, fontsize=6)
    axes.set_title("mean Spearman", fontsize=8)
    figure.colorbar(image, ax=axes, fraction=0.046)
    return figure
