"""Image-folder datasets: `root/<split>/<class>/*` or `root/<class>/*`, any format and size."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from emolens.explain import faces as _faces
from emolens.explain.data.dataset import Dataset
from emolens.explain.data.labels import FER7, class_names
from emolens.explain.data.splits import SPLIT_ALIASES

CLASS_ALIASES = {
    "anger": "angry",
    "disgusted": "disgust",
    "fearful": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "surprised": "surprise",
}
"""Folder names other datasets use for the FER7 classes (FERPlus, RAF-DB, CK+)."""
UNUSED_CLASSES = ("contempt",)
"""Known emotion folders that no class set holds: ignored like other classes outside it."""


def _class_of_folder(name: str) -> str | None:
    """FER7 name of a class folder (any case, common aliases); None for unused classes.

    Raises:
        ValueError: the name matches no known emotion.
    """
    key = name.strip().lower()
    key = CLASS_ALIASES.get(key, key)
    if key in FER7:
        return key
    if key in UNUSED_CLASSES:
        return None
    raise ValueError(
        f"Folder {name!r} matches no known class. Class folders must be named (any case) "
        f"{', '.join(FER7)} (or {', '.join(CLASS_ALIASES)}). Rename or remove it."
    )


def _subfolders(folder: Path) -> list[Path]:
    """Visible subfolders, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _split_folder(root: Path, split: str) -> Path:
    """The subfolder of `root` for `split` (any case; train/training, test/publictest, ...)."""
    names = {p.name.lower(): p for p in _subfolders(root)}
    aliases = next((group for group in SPLIT_ALIASES if split.lower() in group), (split.lower(),))
    for name in (split.lower(), *aliases):
        if name in names:
            return names[name]
    raise FileNotFoundError(
        f"Image folder {str(root)!r} has no {split!r} split folder; its subfolders are "
        f"{', '.join(names) or 'none'}. Pass one of them as the split, or split=None when "
        "the class folders sit directly in it."
    )


def _class_folders(base: Path, split: str | None) -> dict[str, list[Path]]:
    """FER7 class name -> its folders (several when names differ only by case or alias)."""
    folders = _subfolders(base)
    if not folders:
        raise ValueError(
            f"Image folder {str(base)!r} has no class subfolders. Expected <class>/<images> "
            f"with classes named {', '.join(FER7)} (any case)."
        )
    names = [p.name.lower() for p in folders]
    if split is None and any(name in group for group in SPLIT_ALIASES for name in names):
        raise ValueError(
            f"Image folder {str(base)!r} holds split folders ({', '.join(names)}), not class "
            "folders. Pass split='train' (or 'test') to choose one."
        )
    found: dict[str, list[Path]] = {}
    for folder in folders:
        name = _class_of_folder(folder.name)
        if name is not None:
            found.setdefault(name, []).append(folder)
    return found


def _image_files(folder: Path, name: str) -> list[Path]:
    """Visible files of a class folder, sorted.

    Raises:
        ValueError: the folder is empty.
    """
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ValueError(
            f"Class folder {str(folder)!r} is empty. Add images of {name!r} or remove it."
        )
    return files


def _load_image(path: Path, size: int, channels: int, detect: bool) -> tuple[np.ndarray, bool]:
    """float32 (size, size, channels) of one image file, and whether a face was found."""
    image = _faces.decode_image(path)  # uint8 (H, W, 3)
    height, width = image.shape[:2]
    boxes = _faces.detect_faces(image) if detect else []
    if boxes:
        x, y, w, h = _faces.with_margin(boxes[0], 0.2, (height, width))
    else:
        x, y, w, h = 0, 0, width, height
    return _faces.crop_resize(image[y : y + h, x : x + w], size, channels), bool(boxes)


def load_image_folder(
    root: str | os.PathLike,
    split: str | None = None,
    class_set: str = "emo3",
    size: int = 48,
    channels: int = 1,
    detect_faces: bool = False,
) -> Dataset:
    """Load an image-folder dataset `root/<split>/<class>/*` (or `root/<class>/*`).

    Class folders may use any case (Kaggle FER2013 `train/angry`, the Human Emotions
    Dataset `Angry/`); folders of classes outside `class_set` are ignored. Images of any
    format and size are decoded with OpenCV, converted to gray (`channels=1`) and resized.

    Args:
        root: dataset folder.
        split: split subfolder (any case; "train"/"training", "test"/"publictest");
            None when the class folders sit directly in `root`.
        class_set: "fer7" or "emo3".
        size: side of the square output images.
        channels: 1 (gray) or 3 (RGB).
        detect_faces: crop the largest face of each image (`explain.faces`); images with
            no detectable face are used whole (counted in a warning).

    Returns:
        A `Dataset` with float32 (N, size, size, channels) images in [0, 1], ordered by
        class then file name; extras hold `paths` (and `face_found` with `detect_faces`).

    Raises:
        FileNotFoundError: `root` or the split folder is missing.
        ValueError: an unknown class folder, an empty class folder, no class folders,
            or no image that decodes.
    """
    classes = class_names(class_set)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (gray) or 3 (RGB); got {channels}.")
    base = _dataset_base(Path(root), split)
    folders = _class_folders(base, split)
    files = [
        (classes.index(name), path)
        for name in classes
        for folder in folders.get(name, [])
        for path in _image_files(folder, name)
    ]
    if not files:
        raise ValueError(
            f"Image folder {str(base)!r} has no folder for any class of {class_set!r} "
            f"({', '.join(classes)}); it has {', '.join(p.name for p in _subfolders(base))}."
        )
    absent = [name for name in classes if name not in folders]
    if absent:
        warnings.warn(
            f"Image folder {str(base)!r} has no images of {', '.join(absent)}.", stacklevel=2
        )
    return _read_images(files, classes, base, size, channels, detect_faces)


def _dataset_base(root: Path, split: str | None) -> Path:
    """`root`, or its split subfolder; FileNotFoundError when missing."""
    if not root.is_dir():
        raise FileNotFoundError(
            f"Image folder {str(root)!r} not found. Pass a folder laid out as "
            "<split>/<class>/<images> or <class>/<images>."
        )
    return root if split is None else _split_folder(root, split)


def _read_images(
    files: list[tuple[int, Path]],
    classes: tuple[str, ...],
    base: Path,
    size: int,
    channels: int,
    detect: bool,
) -> Dataset:
    """Decode (label, path) pairs into a Dataset, skipping files that do not decode."""
    images, labels, paths, found, skipped = [], [], [], [], []
    for label, path in files:
        try:
            image, has_face = _load_image(path, size, channels, detect)
        except ValueError:
            skipped.append(path)
            continue
        images.append(image)
        labels.append(label)
        paths.append(str(path))
        found.append(has_face)
    _report_skipped(skipped, base, decoded=len(images))
    extras = {"paths": np.asarray(paths)}
    if detect:
        extras["face_found"] = np.asarray(found)
        if not all(found):
            warnings.warn(
                f"No face found in {found.count(False)} of {len(found)} images under "
                f"{str(base)!r}; used those whole (extras['face_found'] marks them).",
                stacklevel=3,
            )
    return Dataset(np.stack(images), np.asarray(labels, np.int64), classes, extras)


def _report_skipped(skipped: list[Path], base: Path, decoded: int) -> None:
    """Warn about files that did not decode; raise when none did."""
    if not skipped:
        return
    listed = ", ".join(str(p) for p in skipped[:10]) + (" ..." if len(skipped) > 10 else "")
    if decoded == 0:
        raise ValueError(
            f"No image under {str(base)!r} could be decoded ({len(skipped)} files: {listed}). "
            "Use JPEG, PNG, BMP, WebP or TIFF files."
        )
    warnings.warn(
        f"Skipped {len(skipped)} corrupt or non-image files under {str(base)!r}: {listed}",
        stacklevel=4,
    )


__all__ = ["CLASS_ALIASES", "UNUSED_CLASSES", "load_image_folder"]
