"""Datasets by name for the store: "synthetic[:N]", "fer2013", folders, csv, Parquet, tar."""

from __future__ import annotations

import os
from pathlib import Path

from emolens.explain.data import Dataset, load_dataset


def _synthetic_count(spec: str) -> int | None:
    """N of "synthetic:N" (None for plain "synthetic": the loader's default count)."""
    _, _, count = spec.partition(":")
    if count and not (count.isdigit() and int(count) > 0):
        raise ValueError(f"Write synthetic faces as 'synthetic' or 'synthetic:N'; got {spec!r}.")
    return int(count) if count else None


def load_source(
    spec: str | os.PathLike,
    split: str | None,
    class_set: str,
    image_shape: tuple[int, int, int] = (48, 48, 1),
) -> Dataset:
    """Load `split` of `spec` with labels of `class_set` ("fer7" or "emo3").

    Args:
        spec: "synthetic" (300 faces; the train split 1200) or "synthetic:N"; "fer2013"
            (found through $EMOLENS_DATA or ../shared/data); a folder holding fer2013/; a
            fer2013.csv; Parquet shards (a .parquet file or a folder of them, see
            `_parquet`); WebDataset-style tar shards (a .tar or a folder of them, see
            `_webdataset`); or an image folder (`<split>/<class>/*`, or `<class>/*` with split
            None). See `explain.data.load_dataset`.
        split: "publictest", "train", ...; for image folders the split subfolder or None.
        class_set: class set of the labels; images of other classes are dropped.
        image_shape: (H, W, C) the model takes (square: H sets the size); synthetic faces
            and image folders are made to it (FER2013 is 48x48 gray). A store's faces come
            back as indexed only with the shape its model took (`index` passes it).

    Raises:
        FileNotFoundError / ValueError: from the loaders, naming the problem and the fix.
    """
    size, _, channels = image_shape
    text = str(spec)
    if text.lower().partition(":")[0] == "synthetic":
        count = _synthetic_count(text)
        return load_dataset(
            "synthetic", split, class_set, limit=count, size=size, channels=channels
        )
    path = Path(text).expanduser()
    if path.suffix == ".parquet" or (path.is_dir() and any(path.glob("*.parquet"))):
        from emolens.explain.store._parquet import load_parquet_faces

        return load_parquet_faces(path, class_set, size, channels)
    if path.suffix == ".tar" or (path.is_dir() and any(path.glob("*.tar"))):
        from emolens.explain.store._webdataset import load_tar_faces

        return load_tar_faces(path, class_set, size, channels)
    if path.is_dir() and not (path / "fer2013").is_dir():
        return load_dataset(path, split, class_set, size=size, channels=channels)
    return load_dataset(text, split, class_set)
