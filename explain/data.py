"""Dataset loaders: FER2013 npz files (more formats: see the functions below)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explain.labels import FER7, class_names, fer7_to

FER2013_SPLITS = {"train": "train.npz", "publictest": "publictest.npz"}


@dataclass
class Dataset:
    """Images and labels of one split.

    Attributes:
        images: float32 (N, H, W, 1), values in [0, 1].
        labels: int64 (N,), indices into `classes`.
        classes: class names in label order.
        extras: per-image arrays that came with the data (e.g. `ferplus_votes`, `paths`).
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data folder: `path`, else $EMOLENS_DATA, else ../shared/data, else ~/.cache/emolens.

    Raises:
        FileNotFoundError: an explicitly given folder (argument or $EMOLENS_DATA) is missing.
    """
    explicit = path if path is not None else os.environ.get("EMOLENS_DATA")
    if explicit:
        folder = Path(explicit).expanduser()
        if not folder.is_dir():
            source = "EMOLENS_DATA" if path is None else "--data"
            raise FileNotFoundError(
                f"Data folder {str(folder)!r} (from {source}) does not exist. "
                "Point it at the folder holding fer2013/, or run `emolens data download fer2013`."
            )
        return folder
    for folder in (Path("../shared/data"), Path.home() / ".cache" / "emolens"):
        if folder.is_dir():
            return folder.resolve()
    return Path.home() / ".cache" / "emolens"


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
    with np.load(path, allow_pickle=False) as npz:
        pixels, original = npz["x"], npz["y"].astype(np.int64)
        extras = {k: npz[k] for k in ("ferplus_votes", "paths", "orig_index") if k in npz.files}
    mapping = fer7_to(class_set)
    keep = np.isin(original, list(mapping))
    if clean:
        keep &= pixels.reshape(len(pixels), -1).std(axis=1) > 1.0
        if "orig_index" in extras:
            keep &= extras["orig_index"] >= 0
    labels = np.array([mapping[int(y)] for y in original[keep]], dtype=np.int64)
    images = (pixels[keep].astype(np.float32) / 255.0)[..., None]
    return Dataset(images, labels, classes, {k: v[keep] for k, v in extras.items()})


__all__ = ["FER7", "Dataset", "data_dir", "load_fer2013"]
