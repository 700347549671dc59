"""The one dataset type every loader returns: images, labels, class names, per-image extras."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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


__all__ = ["Dataset"]
