"""Class-mean maps: per method, the mean map of each true and each predicted class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from emolens.explain._atomic import atomic_file
from emolens.explain.store._layout import array_path, means_path, rows_path
from emolens.explain.store._shard import decode_maps

BY = ("label", "prediction")
"""Axis 0 of a class-means array: [0] grouped by true label, [1] by predicted class."""


def class_counts(store: Path, shards: int, num_classes: int) -> dict[str, list[int]]:
    """Images per class, by true label (label -1 not counted) and by prediction."""
    counts = {by: np.zeros(num_classes, np.int64) for by in BY}
    for shard in range(shards):
        rows = pq.read_table(rows_path(store, shard), columns=list(BY))
        for by in BY:
            values = rows[by].to_numpy()
            counts[by] += np.bincount(values[values >= 0], minlength=num_classes)
    return {by: counts[by].tolist() for by in BY}


def write_class_means(store: Path, shards: int, method: str, num_classes: int) -> Path:
    """Write float32 (2, C, H, W) mean maps of `method`: [0] by label, [1] by prediction.

    Streams shard by shard (one shard's maps in memory); a class with no image gets zeros.
    """
    sums, counts = None, np.zeros((len(BY), num_classes), np.int64)
    for shard in range(shards):
        maps = decode_maps(np.load(array_path(store, shard, method), mmap_mode="r"))
        rows = pq.read_table(rows_path(store, shard), columns=list(BY))
        if sums is None:
            sums = np.zeros((len(BY), num_classes, *maps.shape[1:]), np.float64)
        for axis, by in enumerate(BY):
            groups = rows[by].to_numpy()
            for k in np.unique(groups[groups >= 0]):
                sums[axis, k] += maps[groups == k].sum(axis=0, dtype=np.float64)
                counts[axis, k] += int((groups == k).sum())
    means = sums / np.maximum(counts, 1)[:, :, None, None]
    path = means_path(store, method)
    with atomic_file(path, "wb") as file:
        np.save(file, means.astype(np.float32), allow_pickle=False)
    return path
