"""The one entry point: `load_dataset` names a source and a split, and returns a `Dataset`."""

from __future__ import annotations

import os
from pathlib import Path

from emolens.explain.data.csv import FER2013_USAGES, load_fer2013_csv
from emolens.explain.data.dataset import Dataset
from emolens.explain.data.folders import load_image_folder
from emolens.explain.data.npz import FER2013_SPLITS, load_fer2013
from emolens.explain.data.splits import SPLIT_ALIASES, subset
from emolens.explain.data.synthetic import load_synthetic


def load_dataset(
    spec: str | os.PathLike | None,
    split: str | None,
    class_set: str,
    root: str | os.PathLike | None = None,
    *,
    clean: bool = False,
    limit: int | None = None,
    seed: int = 0,
    **options,
) -> Dataset:
    """Load `split` of a dataset named by `spec`, optionally a seeded subset of it.

    Args:
        spec: where the data is:
            - None or "fer2013": the FER2013 npz files under `data_dir(root)`;
            - a folder holding fer2013/: the npz files in it;
            - a fer2013.csv (or icml_face_data.csv) path;
            - an image folder (see `load_image_folder`);
            - "synthetic": drawn cartoon faces (see `load_synthetic`).
        split: "train"/"training", "publictest"/"test", or "privatetest" (csv only);
            for image folders the split subfolder, or None for `root/<class>/*`.
        class_set: "fer7" or "emo3".
        root: data folder for "fer2013" and None.
        clean: FER2013 npz only: drop near-black images and images with no known csv row;
            the other sources ignore it.
        limit: keep a seeded random subset of this many images (order kept), so two runs
            with the same `seed` see the same images; for "synthetic" the number of faces
            drawn (default 1200 for train, else 300).
        seed: seed of the subset; synthetic faces use a fixed seed per split instead.
        **options: passed to the loader (`size`, `channels` for image folders and
            synthetic faces, `detect_faces` for image folders).

    Returns:
        The loader's `Dataset`.

    Raises:
        FileNotFoundError: the file or folder is missing.
        ValueError: `spec` names no supported format, or the loader's errors.
    """
    name = None if spec is None else str(spec)
    if name is not None and name.lower() == "synthetic":
        return load_synthetic(split, class_set, count=limit, **options)
    return subset(_load_source(name, split, class_set, root, clean, options), limit, seed)


def _load_source(
    spec: str | None,
    split: str | None,
    class_set: str,
    root: str | os.PathLike | None,
    clean: bool,
    options: dict,
) -> Dataset:
    """Every image of `split` of a FER2013 npz, csv or image-folder `spec`."""
    npz_splits = {name: name for name in FER2013_SPLITS}
    if spec is None or spec.lower() == "fer2013":
        return load_fer2013(_fer2013_split(split, npz_splits), class_set, root, clean, **options)
    path = Path(spec)
    if (path / "fer2013").is_dir():
        return load_fer2013(_fer2013_split(split, npz_splits), class_set, path, clean, **options)
    if path.suffix.lower() == ".csv":
        usages = {name.lower(): name for name in FER2013_USAGES}
        usage = None if split is None else _fer2013_split(split, usages)
        return load_fer2013_csv(path, class_set, usage, **options)
    if path.is_dir():
        return load_image_folder(path, split, class_set, **options)
    if not path.exists():
        raise FileNotFoundError(
            f"Dataset {spec!r} not found. Pass 'fer2013', a fer2013.csv path, or an image "
            "folder (<split>/<class>/<images>); for the FER2013 npz files pass the folder "
            "holding fer2013/ (get them with `emolens data download fer2013`)."
        )
    raise ValueError(
        f"Cannot load dataset {spec!r}: not 'fer2013', a .csv file or a folder. Pass one of those."
    )


def _fer2013_split(split: str | None, known: dict[str, str]) -> str:
    """`known[...]` value of a FER2013 split name, through SPLIT_ALIASES and any case."""
    key = (split or "").lower()
    candidates = [key] + [alias for group in SPLIT_ALIASES if key in group for alias in group]
    for name in candidates:
        if name in known:
            return known[name]
    raise ValueError(f"Unknown FER2013 split {split!r}. Choose one of: {', '.join(known)}.")


__all__ = ["load_dataset"]
