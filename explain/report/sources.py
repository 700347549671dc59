"""From a file or an in-memory photo to model-ready face crops and their display crops."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from emolens.explain.faces import crop_resize, decode_image, header_size, prepare_faces

MAX_BYTES = 64 * 2**20
"""Largest file read (64 MiB)."""
MAX_PIXELS = 64_000_000
"""Largest photo decoded (64 megapixels; a 100 MP decode would hold 300 MB of pixels)."""
DISPLAY_SIDE = 192
"""Smallest side of the display crops the overlays are drawn on."""


def read_photo(
    file: str | os.PathLike, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """Decode an image file safely into uint8 (H, W, 3) RGB, refusing oversized ones.

    The pixel count is read from the header (Pillow, lazily) before anything is decoded
    (see `decode_image`).

    Raises:
        ValueError: too large, empty, corrupt or not an image. FileNotFoundError: no file.
    """
    path = Path(file)
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} is not a file.")
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"too large: {size / 2**20:.1f} MiB (limit {max_bytes / 2**20:.0f} MiB)")
    width, height = header_size(path.read_bytes()[: 2**20])  # headers sit at the start
    if width * height > max_pixels:
        pixels = f"{width}x{height} pixels" if height > 1 else f"{width} pixels"
        raise ValueError(
            f"too large: {pixels} ({width * height / 1e6:.0f} MP, limit {max_pixels / 1e6:.0f} MP)"
        )
    return decode_image(path, max_pixels=max_pixels)


def crop_faces(
    photo: np.ndarray, size: int, channels: int, *, detect: bool = True, all_faces: bool = False
) -> list[tuple[np.ndarray, tuple[int, int, int, int], np.ndarray]]:
    """Faces of one uint8 (H, W, 3) RGB photo, largest first.

    Args:
        photo: uint8 (H, W, 3) RGB.
        size: the model's input side.
        channels: the model's input channels (1 or 3).
        detect: find faces (Haar cascade, crop with margin); False: the whole photo is the face.
        all_faces: every face found; False: the largest only.

    Returns:
        (image float32 (size, size, channels) in [0, 1], box (x, y, w, h), display crop
        uint8 (S, S, 3) of the same box, S = max(size, DISPLAY_SIDE)) per face.

    Raises:
        ValueError: no face found (with `detect`).
    """
    height, width = photo.shape[:2]
    if detect:
        try:
            images, boxes = prepare_faces(photo, size=size, channels=channels)
        except ValueError:
            raise ValueError(
                f"no face found in the {width}x{height} photo (for pre-cropped faces turn "
                "detection off: --no-detect, or detect=False in Python)"
            ) from None
        boxes = [tuple(int(v) for v in box) for box in boxes]
    else:
        images, boxes = crop_resize(photo, size, channels)[None], [(0, 0, width, height)]
    side = max(size, DISPLAY_SIDE)
    faces = []
    for image, (x, y, w, h) in zip(images, boxes, strict=True):
        crop = photo[y : y + h, x : x + w]
        interpolation = cv2.INTER_AREA if min(w, h) >= side else cv2.INTER_CUBIC
        crop = cv2.resize(np.ascontiguousarray(crop), (side, side), interpolation=interpolation)
        faces.append((image, (x, y, w, h), crop))
    return faces if all_faces else faces[:1]
