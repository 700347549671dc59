"""Map post-processing: [0, 1] scaling and resizing to the image grid."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from emolens.explain.types import Maps


def to_unit_range(maps: np.ndarray) -> Maps:
    """Divide each map by its own maximum after ReLU: (N, ...) -> same, float32 in [0, 1].

    An all-zero (or all-negative) map stays zeros, never NaN.
    """
    maps = np.maximum(np.asarray(maps, dtype=np.float32), 0.0)
    peak = maps.reshape(maps.shape[0], -1).max(axis=1)
    scale = np.where(peak > 0, peak, 1.0).astype(np.float32)
    return (maps / scale.reshape((-1,) + (1,) * (maps.ndim - 1))).astype(np.float32)


def resize_maps(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize (N, h, w) -> (N, H, W) float32, half-pixel centres (no align_corners)."""
    maps = np.asarray(maps, dtype=np.float32)
    if maps.shape[1:3] == tuple(size):
        return maps
    resized = tf.image.resize(maps[..., None], size, method="bilinear")
    return resized.numpy()[..., 0].astype(np.float32)


def unit_maps_graph(maps: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """In-graph twin of `to_unit_range(resize_maps(relu(maps), size))`: (N, h, w) -> (N, H, W).

    `size` must be static Python ints, so the compiled graph keeps static shapes. Same
    bilinear half-pixel resize and per-map max scaling as the numpy path (float32).
    """
    maps = tf.nn.relu(maps)
    if tuple(maps.shape[1:3]) != tuple(size):
        maps = tf.image.resize(maps[..., None], size, method="bilinear")[..., 0]
    maps = tf.nn.relu(maps)
    peak = tf.reduce_max(maps, axis=(1, 2), keepdims=True)  # (N,1,1)
    return maps / tf.where(peak > 0.0, peak, tf.ones_like(peak))
