"""Per-layer table over a dataset: output shape, dead channels, mean activation per class."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from emolens.explain._batch import as_images, as_targets, batches, model_classes
from emolens.explain._layers import _walk, outputs_model
from emolens.explain.feature_maps import _forward, _layer_names


def summary_layers(model: keras.Model) -> list[str]:
    """Qualified names of layers with one output of rank >= 2 (no containers, no inputs)."""
    names = []
    for name, layer, _ in _walk(model):
        if isinstance(layer, (keras.layers.InputLayer, keras.Model)):
            continue
        try:
            output = layer.output
        except (AttributeError, ValueError):
            continue
        if isinstance(layer, keras.layers.MultiHeadAttention) or (
            not isinstance(output, (list, tuple)) and len(output.shape) >= 2
        ):
            names.append(name)
    return names


class _Stats:
    """Running per-channel statistics of one layer: (N, ..., K) batches in, table row out."""

    def __init__(self, num_classes: int):
        self.num_classes = num_classes
        self.peak = None  # (K,) max |act| over everything seen
        self.low = np.inf
        self.sums = None  # (C, K) sum over images of each image's spatial mean
        self.counts = np.zeros(num_classes, np.int64)

    def update(self, acts: np.ndarray, labels: np.ndarray) -> None:
        flat = acts.reshape(acts.shape[0], -1, acts.shape[-1]).astype(np.float64)  # (n, P, K)
        if self.peak is None:
            self.peak = np.zeros(flat.shape[-1])
            self.sums = np.zeros((self.num_classes, flat.shape[-1]))
        self.peak = np.maximum(self.peak, np.abs(flat).max(axis=(0, 1)))
        self.low = min(self.low, float(flat.min()))
        np.add.at(self.sums, labels, flat.mean(axis=1))
        self.counts += np.bincount(labels, minlength=self.num_classes)

    def row(self, classes: Sequence[str]) -> dict:
        seen = self.counts > 0
        means = self.sums[seen] / self.counts[seen, None]  # (C seen, K)
        row = {
            "channels": len(self.peak),
            "dead_fraction": float(np.mean(self.peak == 0.0)),
            "mean": float(self.sums.sum() / max(self.counts.sum(), 1) / len(self.peak)),
        }
        for name, count, sums in zip(classes, self.counts, self.sums, strict=True):
            row[f"mean_{name}"] = float(sums.mean() / count) if count else float("nan")
        row["selective_channel"], row["selectivity"] = _selectivity(means, self.low)
        return row


def _selectivity(means: np.ndarray, low: float) -> tuple[int, float]:
    """Most class-selective channel and its index (mu_max - mu_rest) / (mu_max + mu_rest).

    Morcos et al. 2018; defined for non-negative activations, so NaN for layers with negative
    values or with fewer than two classes seen.
    """
    if low < 0 or len(means) < 2:
        return -1, float("nan")
    ordered = np.sort(means, axis=0)  # (C, K)
    top = ordered[-1]
    rest = (ordered.sum(axis=0) - top) / (len(means) - 1)
    total = top + rest
    index = np.where(total > 0, (top - rest) / np.where(total > 0, total, 1.0), 0.0)
    best = int(np.argmax(index))
    return best, float(index[best])


def layer_summary(
    model: keras.Model,
    images: np.ndarray,
    labels: Sequence[int | str] | np.ndarray | None = None,
    classes: Sequence[str] | None = None,
    *,
    layers: str | int | Sequence[str | int] | None = None,
    batch_size: int = 32,
) -> pd.DataFrame:
    """Table of every layer's output shape, dead channels and mean activation per class.

    Streams over batches: memory is one batch of activations plus (classes x channels) sums.

    Args:
        model: Keras classifier; layers inside nested models appear as 'outer/inner'.
        images: float32 (N, H, W, C), values in [0, 1].
        labels: (N,) class indices or names; None uses each image's predicted class.
        classes: class names for the columns. Default: `model.class_names`, else class_0...
        layers: names or indices to summarise. Default: every layer with one output of rank
            >= 2 (channels are the last axis).
        batch_size: images per forward pass.

    Returns:
        pandas DataFrame, one row per layer: layer, output_shape (no batch axis), channels,
        dead_fraction (channels exactly 0 on every image and position), mean,
        mean_<class> (mean activation over that class's images), selective_channel and
        selectivity (Morcos et al. 2018 class-selectivity index of the most selective
        channel; NaN for layers with negative activations). `df.attrs["labels"]` says
        whether labels were given or predicted.

    Raises:
        ValueError: bad images, labels of the wrong length or out of range, unknown layer.
    """
    images = as_images(images, "layer_summary")
    names = summary_layers(model) if layers is None else _layer_names(model, layers)
    sub_model = outputs_model(model, tuple(names))
    num_classes = int(sub_model.outputs[-1].shape[-1])
    classes = list(classes or model_classes(model) or [f"class_{i}" for i in range(num_classes)])
    if len(classes) != num_classes:
        raise ValueError(f"Got {len(classes)} class names for a model with {num_classes} classes.")
    indices = as_targets(labels, len(images), num_classes, classes)
    stats = [_Stats(num_classes) for _ in names]
    shapes = [tuple(t.shape[1:]) for t in sub_model.outputs[:-1]]  # without the batch axis
    for part in batches(len(images), batch_size):
        *acts, logits = _forward(sub_model, tf.constant(images[part]))
        batch_labels = np.argmax(logits, -1) if indices is None else indices[part]
        for stat, layer_acts in zip(stats, acts, strict=True):
            stat.update(np.asarray(layer_acts), batch_labels)
    rows = [
        {"layer": name, "output_shape": shape, **stat.row(classes)}
        for name, shape, stat in zip(names, shapes, stats, strict=True)
    ]
    table = pd.DataFrame(rows)
    table.attrs["labels"] = "predicted" if indices is None else "given"
    return table
