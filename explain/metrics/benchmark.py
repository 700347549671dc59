"""Benchmark explainers: run each method, score its maps against masks and the model, time it."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import keras
import numpy as np

from emolens.explain.metrics.deletion import deletion_auc
from emolens.explain.metrics.insertion import insertion_auc
from emolens.explain.metrics.pointing_game import pointing_game
from emolens.explain.metrics.relevance_mass import relevance_mass
from emolens.explain.types import Images

FAST_OPTIONS: dict[str, dict] = {
    "rise": {"n_masks": 300, "cells": 6},
    "smoothgrad": {"n_samples": 16},
    "integrated_gradients": {"steps": 16},
}
"""Per-method options the benchmarks use by default: fewer samples, same maps in kind."""


def _reason(error: Exception) -> str:
    """First sentence of an explainer's error: why the method does not apply."""
    text = str(error).strip().replace("\n", " ")
    return text.split(". ")[0][:160]


def run_methods(
    model: keras.Model,
    images: Images,
    targets: np.ndarray,
    methods: Mapping[str, object],
    options: Mapping[str, dict] | None = None,
) -> dict[str, tuple[np.ndarray | None, float, str]]:
    """Maps of every method, with seconds per face, or the reason the method does not apply.

    Args:
        model: Keras classifier with a (N, num_classes) output.
        images: float32 (N, H, W, C) in [0, 1].
        targets: (N,) ints, the class each map explains.
        methods: name -> explainer (for example `explain.METHODS`).
        options: name -> keyword options for that method (default `FAST_OPTIONS`).

    Returns:
        name -> (maps float32 (N, H, W) or None, seconds per face, reason it was skipped or "").
        A method that raises ValueError or TypeError (a ViT attention method on a CNN, a CAM
        on a model without a conv layer) is skipped with the first sentence of its message.
    """
    options = FAST_OPTIONS if options is None else options
    results = {}
    for name, method in methods.items():
        start = time.perf_counter()
        try:
            maps = method(model, images, targets, **options.get(name, {}))
        except (ValueError, TypeError) as error:
            results[name] = (None, math.nan, _reason(error))
            continue
        results[name] = (maps, (time.perf_counter() - start) / len(images), "")
    return results


def localisation(maps: np.ndarray, masks: np.ndarray) -> tuple[float, float]:
    """Mean relevance mass on the masks and pointing-game hit rate of (N, H, W) maps."""
    return float(relevance_mass(maps, masks).mean()), float(pointing_game(maps, masks).mean())


def faithfulness(
    model: keras.Model, images: Images, maps: np.ndarray, targets: np.ndarray, steps: int = 16
) -> tuple[float, float]:
    """Mean deletion AUC (lower = better) and insertion AUC (higher = better), logit score."""
    deletion = deletion_auc(model, images, maps, targets, steps=steps)
    insertion = insertion_auc(model, images, maps, targets, steps=steps)
    return float(deletion.mean()), float(insertion.mean())


def accuracy(
    model: keras.Model, images: Images, labels: np.ndarray, batch_size: int = 256
) -> float:
    """Share of `images` (N, H, W, C) whose top class is `labels` (N,)."""
    outputs = model.predict(np.asarray(images, np.float32), batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(outputs, axis=-1) == np.asarray(labels)))


def markdown_table(rows: list[dict], digits: int = 3) -> str:
    """GitHub markdown table of dict rows (same keys); floats rounded, NaN shown as "-"."""
    columns = list(rows[0])

    def cell(value) -> str:
        if isinstance(value, float):
            return "-" if math.isnan(value) else f"{value:.{digits}f}"
        return str(value).replace("|", "/")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"
