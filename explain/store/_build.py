"""The faces a streaming source keeps, one by one, then its Dataset (tar and Parquet sources)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emolens.explain import faces
from emolens.explain.data import Dataset
from emolens.explain.data.labels import class_names


class FaceBuilder:
    """Collects the encoded faces of one class set, in order, and builds their `Dataset`.

    Each kept face is decoded and cropped to float32 (size, size, channels) in [0, 1] at once,
    so only the small crops are held, never the encoded files.
    """

    def __init__(self, class_set: str, size: int, channels: int) -> None:
        self.class_set = class_set
        self.names = class_names(class_set)
        self.size, self.channels = size, channels
        self._images: list[np.ndarray] = []
        self._labels: list[int] = []
        self._paths: list[str] = []
        self._positions: list[int] = []

    def add(self, label: str, encoded: bytes, path: str, position: int) -> bool:
        """Keep the face `encoded` (PNG, JPEG, ... bytes) if `label` is a class of the set.

        `path` names it in the "paths" extra, `position` is its place among all the source's
        faces ("orig_index"). Returns whether it was kept; other classes are not decoded.
        """
        if label not in self.names:
            return False
        pixels = faces.decode_image(encoded)  # uint8 (H, W, 3)
        self._images.append(faces.crop_resize(pixels, self.size, self.channels))
        self._labels.append(self.names.index(label))
        self._paths.append(path)
        self._positions.append(position)
        return True

    def dataset(self, unit: str, source: str | Path) -> Dataset:
        """The kept faces: images (N, size, size, channels), labels (N,), "paths", "orig_index".

        Raises:
            ValueError: nothing was kept; it reads "No {unit} of {source} has a class of ...".
        """
        if not self._images:
            raise ValueError(
                f"No {unit} of {str(source)!r} has a class of {self.class_set} "
                f"({', '.join(self.names)})."
            )
        extras = {
            "paths": np.asarray(self._paths, dtype=object),
            "orig_index": np.asarray(self._positions),
        }
        return Dataset(
            np.stack(self._images), np.asarray(self._labels, np.int64), self.names, extras
        )
