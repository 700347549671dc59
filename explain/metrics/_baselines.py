"""What removed pixels become in deletion/insertion: blurred, mean-filled or black images."""

from __future__ import annotations

import cv2
import numpy as np

from emolens.explain.types import Images

BASELINES: tuple[str, ...] = ("blur", "mean", "black")

BLUR_SIGMA = 0.1
"""Gaussian blur sigma as a fraction of the image's larger side (4.8 px on 48x48 faces)."""


def _blur(images: Images) -> Images:
    """Gaussian blur of each image and channel, reflected borders: (N,H,W,C) -> same."""
    sigma = BLUR_SIGMA * max(images.shape[1:3])
    blurred = np.empty_like(images)
    for i, image in enumerate(images):
        for c in range(images.shape[-1]):
            blurred[i, ..., c] = cv2.GaussianBlur(image[..., c], (0, 0), sigmaX=sigma)
    return blurred


def baseline_images(images: Images, baseline: str | float | np.ndarray, caller: str) -> Images:
    """The image every pixel is replaced with: (N, H, W, C) -> (N, H, W, C) float32.

    Args:
        images: float32 (N, H, W, C) in [0, 1].
        baseline: "blur" (Gaussian, sigma = BLUR_SIGMA * larger side), "mean" (each image's
            own per-channel mean), "black" (zeros), a number (that value everywhere) or an
            array broadcastable to the images.
        caller: name used in error messages.

    Raises:
        ValueError: an unknown name or an array that does not broadcast.
    """
    if isinstance(baseline, str):
        if baseline == "blur":
            return _blur(images)
        if baseline == "mean":
            mean = images.mean(axis=(1, 2), keepdims=True)  # (N, 1, 1, C)
            return np.broadcast_to(mean, images.shape).astype(np.float32)
        if baseline == "black":
            return np.zeros_like(images)
        raise ValueError(
            f"{caller} baseline must be one of {BASELINES}, a number or an array; got {baseline!r}."
        )
    array = np.asarray(baseline, dtype=np.float32)
    try:
        return np.broadcast_to(array, images.shape).astype(np.float32)
    except ValueError:
        raise ValueError(
            f"{caller} baseline array of shape {array.shape} does not broadcast to the images "
            f"{images.shape}; pass (N, H, W, C), (H, W, C) or one number."
        ) from None
