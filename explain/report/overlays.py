"""Per-face images: heatmap overlays on the display crop, encoded as PNG bytes."""

from __future__ import annotations

import cv2
import numpy as np

from emolens.explain.overlay import overlay
from emolens.explain.report.records import FaceResult

ALPHA = 0.45
CMAP = "jet"


def encode_png(rgb: np.ndarray) -> bytes:
    """uint8 (H, W, 3) RGB -> PNG bytes."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"Could not encode a {rgb.shape} {rgb.dtype} image as PNG.")
    return encoded.tobytes()


def overlay_rgb(face: FaceResult, method: str, alpha: float = ALPHA, cmap: str = CMAP):
    """uint8 (S, S, 3): `method`'s map (resized bilinearly) blended over the face's display crop.

    The crop is the same box of the photo the model saw, so map pixels line up with the face.
    """
    return overlay(face.crop[None], face.maps[method][None], cmap=cmap, alpha=alpha)[0]


def overlay_png(face: FaceResult, method: str, alpha: float = ALPHA, cmap: str = CMAP) -> bytes:
    """PNG bytes of `overlay_rgb`."""
    return encode_png(overlay_rgb(face, method, alpha, cmap))
