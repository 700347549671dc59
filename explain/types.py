"""Array aliases and the explainer protocol shared by every method."""

from __future__ import annotations

from typing import Protocol

import keras
import numpy as np
from numpy.typing import NDArray

Images = NDArray[np.float32]
"""(N, H, W, C) float32, values in [0, 1]."""

Maps = NDArray[np.float32]
"""(N, H, W) float32, each map scaled to [0, 1]."""

Targets = int | str | list[int] | NDArray[np.integer] | None
"""None: top class per image; int or class name: one class for all; (N,) ints: one per image."""


class Explainer(Protocol):
    """Every method in `explain.METHODS` has this signature."""

    def __call__(
        self,
        model: keras.Model,
        images: Images,
        targets: Targets = None,
        layer: str | None = None,
        **kwargs,
    ) -> Maps:
        """Return (N, H, W) float32 maps in [0, 1]."""
        ...
