"""Split names and splitting: accepted aliases, a stratified validation split, a seeded subset."""

from __future__ import annotations

import numpy as np

from emolens.explain.data.dataset import Dataset

SPLIT_ALIASES = (
    ("train", "training"),
    ("test", "publictest", "testing"),
    ("val", "valid", "validation"),
    ("privatetest",),
)
"""Names that mean the same split (any case), for FER2013 and image-folder subfolders."""


def split_validation(
    dataset: Dataset, fraction: float = 0.1, seed: int = 0
) -> tuple[Dataset, Dataset]:
    """Stratified, seeded split of `dataset` into (train, validation).

    Args:
        dataset: the data to split; extras are split alongside.
        fraction: share of images, per class, that go to validation (0 < fraction < 1).
        seed: random seed; the same seed gives the same split.

    Returns:
        (train, val) `Dataset`s, each keeping the original order of its images.

    Raises:
        ValueError: `fraction` outside (0, 1), or a class too small to split.
    """
    from sklearn.model_selection import train_test_split

    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be between 0 and 1 (exclusive); got {fraction}.")
    counts = np.bincount(dataset.labels, minlength=len(dataset.classes))
    if counts[counts > 0].min(initial=len(dataset)) < 2:
        small = [dataset.classes[i] for i in np.flatnonzero(counts == 1)]
        raise ValueError(
            f"Cannot stratify: class(es) {', '.join(small)} have a single image. "
            "Add images or drop those classes."
        )
    try:
        train, val = train_test_split(
            np.arange(len(dataset)),
            test_size=fraction,
            random_state=seed,
            stratify=dataset.labels,
        )
    except ValueError as error:
        raise ValueError(
            f"Cannot split {len(dataset)} images into a {fraction:.0%} stratified validation "
            f"set: {error} Use a larger fraction or more images."
        ) from error
    return _take(dataset, np.sort(train)), _take(dataset, np.sort(val))


def _take(dataset: Dataset, order: np.ndarray) -> Dataset:
    """The images of `dataset` at `order`, extras included."""
    extras = {key: value[order] for key, value in dataset.extras.items()}
    return Dataset(dataset.images[order], dataset.labels[order], dataset.classes, extras)


def subset(dataset: Dataset, limit: int | None, seed: int = 0) -> Dataset:
    """A seeded random subset of `limit` images (the whole set when None or larger).

    The images keep their original order, so the same `seed` gives the same subset.
    """
    if limit is None or limit >= len(dataset):
        return dataset
    order = np.sort(np.random.default_rng(seed).permutation(len(dataset))[:limit])
    return _take(dataset, order)


__all__ = ["SPLIT_ALIASES", "split_validation", "subset"]
