"""Dataset loaders: FER2013 npz files, fer2013.csv, image folders; a stratified split."""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emolens.explain import faces as _faces
from emolens.explain.data.labels import FER7, class_names, fer7_to

FER2013_SPLITS = {"train": "train.npz", "publictest": "publictest.npz"}
FER2013_USAGES = ("Training", "PublicTest", "PrivateTest")
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
SPLIT_ALIASES = (
    ("train", "training"),
    ("test", "publictest", "testing"),
    ("val", "valid", "validation"),
    ("privatetest",),
)


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


def read_fer2013_csv(
    path: str | os.PathLike, usage: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw rows of a fer2013.csv (columns emotion, pixels[, Usage]), all seven classes.

    Also reads Kaggle's icml_face_data.csv (same columns, names with leading spaces).

    Args:
        path: the csv file.
        usage: keep only rows of this Usage ("Training", "PublicTest", "PrivateTest",
            any case); None keeps every row.

    Returns:
        pixels: uint8 (N, S, S) with S = sqrt(values per row), usually 48.
        labels: int64 (N,) FER2013 labels (order of `explain.labels.FER7`).
        rows: int64 (N,) 0-based data row of each image in the file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a missing column, an unknown usage, or a bad row (named by number).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"FER2013 csv {str(path)!r} not found. Download fer2013.csv (see "
            "`emolens data download fer2013`) and pass its path."
        )
    wanted = _usage_name(usage) if usage is not None else None
    pixels, labels, rows, usages = [], [], [], set()
    for row, emotion, values, row_usage in _csv_rows(path, needs_usage=wanted is not None):
        usages.add(row_usage)
        if wanted is not None and row_usage != wanted:
            continue
        labels.append(_parse_label(emotion, row, path))
        pixels.append(_parse_pixels(values, row, path, pixels[0].size if pixels else None))
        rows.append(row)
    if not pixels:
        found = ", ".join(sorted(u for u in usages if u)) or "no data rows"
        raise ValueError(
            f"FER2013 csv {str(path)!r} has no rows with Usage {wanted!r} (found: {found})."
        )
    side = int(round(np.sqrt(pixels[0].size)))
    images = np.stack(pixels).reshape(-1, side, side)
    return images, np.asarray(labels, np.int64), np.asarray(rows, np.int64)


def _usage_name(usage: str) -> str:
    """Canonical FER2013 Usage name of `usage` (any case)."""
    for name in FER2013_USAGES:
        if usage.lower() == name.lower():
            return name
    raise ValueError(
        f"Unknown FER2013 usage {usage!r}. Choose one of: {', '.join(FER2013_USAGES)}."
    )


def _csv_rows(path: Path, needs_usage: bool) -> Iterator[tuple[int, str, str, str]]:
    """(data row, emotion, pixels, usage) strings of each row of a FER2013 csv."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file, skipinitialspace=True)
        header = [name.strip().lower() for name in next(reader, [])]
        required = ["emotion", "pixels"] + (["usage"] if needs_usage else [])
        missing = [name for name in required if name not in header]
        if missing:
            raise ValueError(
                f"FER2013 csv {str(path)!r} lacks column(s) {', '.join(missing)}; its header "
                f"is {header}. Expected the original fer2013.csv columns: emotion,pixels,Usage."
            )
        emotion, pixels = header.index("emotion"), header.index("pixels")
        usage = header.index("usage") if "usage" in header else None
        for row, fields in enumerate(reader):
            if len(fields) < len(header):
                raise ValueError(
                    f"FER2013 csv {str(path)!r}: data row {row} (line {row + 2}) has "
                    f"{len(fields)} fields; the header has {len(header)}."
                )
            yield (
                row,
                fields[emotion],
                fields[pixels],
                "" if usage is None else fields[usage].strip(),
            )


def _parse_label(text: str, row: int, path: Path) -> int:
    """FER2013 label 0..6 of one csv field."""
    try:
        label = int(text)
    except ValueError:
        label = -1
    if not 0 <= label < len(FER7):
        raise ValueError(
            f"FER2013 csv {str(path)!r}: data row {row} (line {row + 2}) has emotion {text!r}; "
            f"expected an integer 0-{len(FER7) - 1} ({', '.join(FER7)})."
        )
    return label


def _parse_pixels(text: str, row: int, path: Path, expected: int | None) -> np.ndarray:
    """uint8 values of one space-separated pixel string, checked for range and count."""
    where = f"FER2013 csv {str(path)!r}: data row {row} (line {row + 2})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            values = np.fromstring(text, dtype=np.int64, sep=" ") if text.strip() else np.empty(0)
    except (ValueError, DeprecationWarning):
        bad = next((v for v in text.split() if not v.lstrip("-").isdigit()), text[:20])
        raise ValueError(
            f"{where} has a non-integer pixel value {bad!r}; pixels must be space-separated "
            "integers 0-255."
        ) from None
    side = int(round(np.sqrt(values.size)))
    if values.size == 0 or side * side != values.size or expected not in (None, values.size):
        want = f"{expected}" if expected else "a square number of values (2304 for 48x48)"
        raise ValueError(f"{where} has {values.size} pixel values; expected {want}.")
    if values.min() < 0 or values.max() > 255:
        raise ValueError(
            f"{where} has pixel values in [{values.min()}, {values.max()}]; expected 0-255."
        )
    return values.astype(np.uint8)


def load_fer2013_csv(
    path: str | os.PathLike, class_set: str = "fer7", usage: str | None = None
) -> Dataset:
    """Load the original fer2013.csv (columns emotion, pixels, Usage), relabelled to `class_set`.

    Args:
        path: the csv file.
        class_set: "fer7" or "emo3"; rows of other classes are dropped.
        usage: "Training", "PublicTest" or "PrivateTest" (any case); None keeps all rows.

    Returns:
        A `Dataset` with float32 (N, 48, 48, 1) images in [0, 1]; extras hold `orig_index`
        (0-based data row in the csv, as in the npz files).

    Raises:
        FileNotFoundError: no such file.
        ValueError: unknown class set or usage, a missing column, or a bad row (named).
    """
    classes = class_names(class_set)
    pixels, original, rows = read_fer2013_csv(path, usage)
    mapping = fer7_to(class_set)
    keep = np.isin(original, list(mapping))
    labels = np.array([mapping[int(y)] for y in original[keep]], dtype=np.int64)
    images = (pixels[keep].astype(np.float32) / 255.0)[..., None]
    return Dataset(images, labels, classes, {"orig_index": rows[keep]})


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
        x, y, w, h = _faces._with_margin(boxes[0], 0.2, (height, width))
    else:
        x, y, w, h = 0, 0, width, height
    return _faces._crop_resize(image[y : y + h, x : x + w], size, channels), bool(boxes)


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


def load_dataset(
    spec: str | os.PathLike,
    split: str | None,
    class_set: str,
    root: str | os.PathLike | None = None,
    **options,
) -> Dataset:
    """Load `split` of a dataset named by `spec`.

    Args:
        spec: "fer2013" (npz files under `data_dir(root)`), a fer2013.csv path, or an
            image folder (see `load_image_folder`).
        split: "train"/"training", "publictest"/"test", or "privatetest" (csv only);
            for image folders the split subfolder, or None for `root/<class>/*`.
        class_set: "fer7" or "emo3".
        root: data folder for "fer2013".
        **options: passed to the loader (`clean` for fer2013; `size`, `channels`,
            `detect_faces` for image folders).

    Returns:
        The loader's `Dataset`.

    Raises:
        FileNotFoundError: the file or folder is missing.
        ValueError: `spec` names no supported format, or the loader's errors.
    """
    if str(spec).lower() == "fer2013":
        splits = {name: name for name in FER2013_SPLITS}
        return load_fer2013(_fer2013_split(split, splits), class_set, root, **options)
    path = Path(spec)
    if path.suffix.lower() == ".csv":
        usages = {name.lower(): name for name in FER2013_USAGES}
        usage = None if split is None else _fer2013_split(split, usages)
        return load_fer2013_csv(path, class_set, usage, **options)
    if path.is_dir():
        return load_image_folder(path, split, class_set, **options)
    if not path.exists():
        raise FileNotFoundError(
            f"Dataset {str(spec)!r} not found. Pass 'fer2013', a fer2013.csv path, or an "
            "image folder (<split>/<class>/<images>)."
        )
    raise ValueError(
        f"Cannot load dataset {str(spec)!r}: not 'fer2013', a .csv file or a folder. "
        "Pass one of those."
    )


def _fer2013_split(split: str | None, known: dict[str, str]) -> str:
    """`known[...]` value of a FER2013 split name, through SPLIT_ALIASES and any case."""
    key = (split or "").lower()
    candidates = [key] + [alias for group in SPLIT_ALIASES if key in group for alias in group]
    for name in candidates:
        if name in known:
            return known[name]
    raise ValueError(f"Unknown FER2013 split {split!r}. Choose one of: {', '.join(known)}.")


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


__all__ = [
    "FER7",
    "Dataset",
    "data_dir",
    "load_dataset",
    "load_fer2013",
    "load_fer2013_csv",
    "load_image_folder",
    "read_fer2013_csv",
    "split_validation",
]
