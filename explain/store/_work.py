"""The work of an index run, engine-neutral: which shards are left, and each shard's inputs.

Both engines (the serial loop in `writer` and the Ray Data actors in `_ray`) take a shard's
inputs from `shard_inputs` and hand them to `_shard.write_shard`, so they write the same files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emolens.explain.data import Dataset
from emolens.explain.store import _layout


def pending_shards(store: Path, plan: dict) -> list[int]:
    """Shard numbers that are not complete yet (rows and every array), in order."""
    count = len(_layout.shard_ranges(plan["data"]["num_images"], plan["shard_size"]))
    return [k for k in range(count) if not _layout.is_complete(store, k, plan["methods"])]


def image_sources(dataset: Dataset) -> dict[str, np.ndarray]:
    """Per image: source_index (row in the original file, else position), file, true_class."""
    count = len(dataset)
    extras = dataset.extras
    index = extras.get("orig_index", np.arange(count))
    files = extras.get("paths", np.full(count, "", dtype=object))
    names = np.asarray(dataset.classes, dtype=object)[np.asarray(dataset.labels)]
    return {
        "source_index": np.asarray(index, dtype=np.int64),
        "file": np.asarray([str(f) for f in files], dtype=object),
        "true_class": names,
    }


def shard_inputs(
    plan: dict, shard: int, images: np.ndarray, labels: np.ndarray, sources: dict
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Slice the whole split's arrays to shard `shard`'s ids.

    Args:
        plan: the store's plan (num_images, shard_size).
        shard: the shard number.
        images: float32 (N, H, W, C), every image of the split.
        labels: int64 (N,), labels as indices into the plan's classes.
        sources: `image_sources(dataset)`, (N,) arrays.

    Returns:
        (images (n, H, W, C), labels (n,), sources of n images) of the shard.
    """
    ids = _layout.shard_ranges(plan["data"]["num_images"], plan["shard_size"])[shard]
    part = slice(ids.start, ids.stop)
    return images[part], labels[part], {key: value[part] for key, value in sources.items()}
