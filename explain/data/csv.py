"""FER2013 as the original csv (emotion, pixels, Usage): fer2013.csv or icml_face_data.csv."""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from emolens.explain.data.dataset import Dataset
from emolens.explain.data.labels import FER7, class_names, fer7_to

FER2013_USAGES = ("Training", "PublicTest", "PrivateTest")


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
        labels: int64 (N,) FER2013 labels (order of `explain.data.labels.FER7`).
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


__all__ = ["FER2013_USAGES", "load_fer2013_csv", "read_fer2013_csv"]
