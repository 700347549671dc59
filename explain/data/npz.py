"""FER2013 as emolens npz files: `<data>/fer2013/train.npz` and `publictest.npz`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from emolens.explain.data.dataset import Dataset
from emolens.explain.data.labels import class_names, fer7_to
from emolens.explain.data.paths import data_dir

FER2013_SPLITS = {"train": "train.npz", "publictest": "publictest.npz"}


def load_fer2013(
    split: str = "train",
    class_set: str = "fer7",
    root: str | os.PathLike | None = None,
    clean: bool = False,
) -> Dataset:
    """Load one FER2013 split from `<root>/fer2013/<split>.npz`, relabelled to `class_set`.

    Args:
        split: "train" or "publictest".
        class_set: "fer7" or "emo3"; images of other classes are dropped.
        root: data folder (see `data_dir`).
        clean: drop near-black images and images with no known csv row (mostly non-faces).

    Returns:
        A `Dataset` with float32 (N, 48, 48, 1) images in [0, 1]; extras hold
        `ferplus_votes`, `paths` and `orig_index` where the file has them.

    Raises:
        ValueError: unknown split or class set.
        FileNotFoundError: the npz file is missing.
    """
    if split.lower() not in FER2013_SPLITS:
        raise ValueError(
            f"Unknown FER2013 split {split!r}. Choose one of: {', '.join(FER2013_SPLITS)}."
        )
    classes = class_names(class_set)
    path = data_dir(root) / "fer2013" / FER2013_SPLITS[split.lower()]
    if not path.is_file():
        raise FileNotFoundError(
            f"FER2013 file {str(path)!r} not found. Pass --data (or set EMOLENS_DATA) to the "
            "folder holding fer2013/, or run `emolens data download fer2013`."
        )
    pixels, original, extras = _read_fer2013_npz(path)
    mapping = fer7_to(class_set)
    keep = np.isin(original, list(mapping))
    if clean:
        keep &= pixels.reshape(len(pixels), -1).std(axis=1) > 1.0
        if "orig_index" in extras:
            keep &= extras["orig_index"] >= 0
    labels = np.array([mapping[int(y)] for y in original[keep]], dtype=np.int64)
    images = (pixels[keep].astype(np.float32) / 255.0)[..., None]
    return Dataset(images, labels, classes, {k: v[keep] for k, v in extras.items()})


def _read_fer2013_npz(path: Path) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(pixels (N, H, W), labels (N,) int64, extras) of a FER2013 npz, checking its layout."""
    fix = "Recreate it with `emolens data download fer2013` (or `convert_fer2013_csv`)."
    with np.load(path, allow_pickle=False) as npz:
        missing = [key for key in ("x", "y") if key not in npz.files]
        if missing:
            raise ValueError(
                f"FER2013 file {str(path)!r} lacks key(s) {', '.join(missing)}; it has "
                f"{', '.join(npz.files) or 'none'}. Expected x uint8 (N, 48, 48) and y (N,). {fix}"
            )
        pixels, original = npz["x"], npz["y"].astype(np.int64)
        extras = {k: npz[k] for k in ("ferplus_votes", "paths", "orig_index") if k in npz.files}
    if pixels.ndim != 3 or original.shape != (len(pixels),):
        raise ValueError(
            f"FER2013 file {str(path)!r} has x shaped {pixels.shape} and y shaped "
            f"{original.shape}; expected x (N, H, W) grayscale and y (N,). {fix}"
        )
    return pixels, original, extras


__all__ = ["FER2013_SPLITS", "load_fer2013"]
