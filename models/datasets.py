"""Training/evaluation data for the zoo: one function that both `train` and `evaluate` use."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emolens.explain.data import Dataset, load_fer2013
from emolens.explain.data.labels import class_names

SYNTHETIC_SEEDS = {"train": 0, "publictest": 1, "test": 1, "val": 2}


def subset(dataset: Dataset, limit: int | None, seed: int = 0) -> Dataset:
    """A seeded random subset of `limit` images (the whole set when None or larger)."""
    if limit is None or limit >= len(dataset):
        return dataset
    order = np.sort(np.random.default_rng(seed).permutation(len(dataset))[:limit])
    extras = {k: v[order] for k, v in dataset.extras.items()}
    return Dataset(dataset.images[order], dataset.labels[order], dataset.classes, extras)


def load_split(
    data: str | None,
    split: str,
    class_set: str = "emo3",
    clean: bool = False,
    limit: int | None = None,
    seed: int = 0,
    size: int = 48,
) -> Dataset:
    """Load `split` of `data`: "synthetic", a folder holding fer2013/, a .csv, or an image folder.

    `limit` keeps a seeded subset, so `evaluate` can reproduce what `train` measured.

    Raises:
        ValueError / FileNotFoundError: from the loaders, naming the problem and the fix.
    """
    if data == "synthetic":
        from emolens.explain.data.synthetic import faces

        count = limit or (1200 if split == "train" else 300)
        drawn = faces(
            count, seed=SYNTHETIC_SEEDS.get(split, 3), size=size, classes=class_names(class_set)
        )
        return Dataset(drawn.images, drawn.labels, tuple(drawn.classes))
    if data is None or (Path(data) / "fer2013").is_dir() or not Path(data).exists():
        dataset = load_fer2013(split, class_set, root=data, clean=clean)
    else:
        from emolens.explain.data import load_dataset

        dataset = load_dataset(data, split, class_set)
    return subset(dataset, limit, seed)
