"""Synthetic cartoon faces whose expression is set by brows, eyes and mouth, with part masks."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from emolens.explain.data.dataset import Dataset
from emolens.explain.data.labels import class_names

DRAWABLE: tuple[str, ...] = ("angry", "happy", "sad")
PARTS: tuple[str, ...] = ("face", "brows", "eyes", "mouth")

_SHIFT = 4  # cv2 fixed-point bits: polygons are drawn with 1/16 pixel precision
_SCALE = float(1 << _SHIFT)
_ANGLES = np.linspace(0.0, 2 * np.pi, 24, endpoint=False)
_COS, _SIN = np.cos(_ANGLES), np.sin(_ANGLES)
_BROW_X = np.linspace(0.12, 0.62, 6)
_BROW_ARCH = 0.04 * np.sin(np.pi * (_BROW_X - 0.12) / 0.5)
_MOUTH_T = np.linspace(-1.0, 1.0, 12)

# Per expression, (low, high) ranges in face units (face half-width = 1, y points down).
# brow_in/brow_out: y of the inner/outer brow ends; eye_up/eye_low: upper/lower lid
# heights; eye_tilt: radians, > 0 drops the outer corner; mouth_k: > 0 smiles.
_EXPRESSIONS: dict[str, dict[str, tuple[float, float]]] = {
    "angry": {
        "brow_in": (-0.40, -0.34),
        "brow_out": (-0.66, -0.58),
        "eye_up": (0.03, 0.06),
        "eye_low": (0.05, 0.07),
        "eye_tilt": (-0.30, -0.15),
        "mouth_w": (0.20, 0.30),
        "mouth_k": (-0.06, 0.01),
    },
    "happy": {
        "brow_in": (-0.60, -0.54),
        "brow_out": (-0.60, -0.54),
        "eye_up": (0.08, 0.11),
        "eye_low": (0.00, 0.02),
        "eye_tilt": (-0.05, 0.05),
        "mouth_w": (0.34, 0.46),
        "mouth_k": (0.14, 0.24),
    },
    "sad": {
        "brow_in": (-0.68, -0.62),
        "brow_out": (-0.48, -0.42),
        "eye_up": (0.06, 0.09),
        "eye_low": (0.07, 0.10),
        "eye_tilt": (0.15, 0.30),
        "mouth_w": (0.28, 0.38),
        "mouth_k": (-0.22, -0.12),
    },
}


@dataclass
class SyntheticFaces:
    """A batch of synthetic faces.

    Attributes:
        images: float32 (N, size, size, channels), values in [0, 1].
        labels: int64 (N,), indices into `classes`.
        classes: class names in label order.
        masks: part name ('face', 'brows', 'eyes', 'mouth') -> bool (N, size, size),
            the pixels each part was drawn on.
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    masks: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.labels)


def _check_classes(classes: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
    """Lower-cased class names, checked against what can be drawn."""
    if isinstance(classes, str):
        classes = (classes,)
    names = tuple(str(c).lower() for c in classes)
    unknown = [c for c, n in zip(classes, names, strict=True) if n not in DRAWABLE]
    if unknown or not names or len(set(names)) != len(names):
        problem = f"cannot draw {', '.join(map(repr, unknown))}" if unknown else "need distinct"
        raise ValueError(
            f"Synthetic faces {problem} (classes={tuple(classes)!r}). "
            f"Only these expressions are drawable: {', '.join(DRAWABLE)}; "
            "pass a non-empty subset of them, each at most once."
        )
    return names


def _ellipse(cx: float, cy: float, rx: float, up: float, low: float, tilt: float) -> np.ndarray:
    """(24, 2) outline: upper half-height `up`, lower `low`, rotated by `tilt`."""
    x, y = rx * _COS, np.where(_SIN < 0, up, low) * _SIN
    c, s = np.cos(tilt), np.sin(tilt)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


def _stroke(points: np.ndarray, width: float) -> np.ndarray:
    """Outline of a polyline (M, 2) thickened to `width`: (2M, 2)."""
    tangent = np.concatenate([points[1:2], points[2:], points[-1:]]) - np.concatenate(
        [points[:1], points[:-2], points[-2:-1]]
    )
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    normal *= width / 2 / np.linalg.norm(normal, axis=1, keepdims=True)
    return np.concatenate([points + normal, (points - normal)[::-1]])


def _parts(name: str, rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    """Polygons of every part of one face in face units, drawn in dict order."""
    p = {k: rng.uniform(lo, hi) for k, (lo, hi) in _EXPRESSIONS[name].items()}
    height = rng.uniform(1.18, 1.32)
    shapes: dict[str, list[np.ndarray]] = {"face": [_ellipse(0, 0, 1.0, height, height, 0)]}
    shapes["brows"], shapes["eyes"] = [], []
    for side in (-1.0, 1.0):
        ys = p["brow_in"] + (p["brow_out"] - p["brow_in"]) * (_BROW_X - 0.12) / 0.5 - _BROW_ARCH
        shapes["brows"].append(_stroke(np.stack([side * _BROW_X, ys], axis=1), 0.12))
        tilt = side * p["eye_tilt"]
        shapes["eyes"].append(_ellipse(side * 0.38, -0.22, 0.17, p["eye_up"], p["eye_low"], tilt))
    xs = p["mouth_w"] * _MOUTH_T
    ys = 0.62 + p["mouth_k"] * (1 - _MOUTH_T**2)
    shapes["mouth"] = [_stroke(np.stack([xs, ys], axis=1), 0.10)]
    shapes["nose"] = [_stroke(np.array([[0.0, -0.08], [0.04, 0.16], [-0.04, 0.2]]), 0.06)]
    return shapes


def _pose(size: int, rng: np.random.Generator) -> np.ndarray:
    """2x3 affine map from face units to pixels: scale, rotation, translation."""
    scale = size * rng.uniform(0.27, 0.34)
    angle = rng.uniform(-0.25, 0.25)
    center = size / 2 + rng.uniform(-0.06, 0.06, size=2) * size
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    return np.array([[c, -s, center[0]], [s, c, center[1]]])


def _tones(rng: np.random.Generator) -> tuple[float, float, float]:
    """Background, skin and feature gray levels in [0, 1], with varied contrast."""
    skin = rng.uniform(0.35, 0.9)
    background = rng.uniform(0.0, 1.0)
    if abs(background - skin) < 0.15:
        background = np.clip(skin + np.sign(background - skin + 1e-9) * 0.25, 0.0, 1.0)
    feature = skin * rng.uniform(0.1, 0.5)
    return float(background), skin, feature


@functools.lru_cache(maxsize=8)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel rows and columns scaled to [0, 1): (size, size) each."""
    return tuple(np.mgrid[0:size, 0:size] / size)


def _draw_face(name: str, size: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """One float32 (size, size) face and its bool (size, size) part masks."""
    shapes, pose = _parts(name, rng), _pose(size, rng)
    background, skin, feature = _tones(rng)
    yy, xx = _grid(size)
    gradient = rng.uniform(-0.2, 0.2, size=2)
    canvas = np.clip(background + gradient[0] * (xx - 0.5) + gradient[1] * (yy - 0.5), 0, 1)
    canvas = (canvas * 255).astype(np.uint8)
    masks = {}
    for part, polygons in shapes.items():
        pixels = [
            np.round((poly @ pose[:, :2].T + pose[:, 2] - 0.5) * _SCALE).astype(np.int32)
            for poly in polygons
        ]
        tone = skin if part == "face" else feature
        cv2.fillPoly(canvas, pixels, int(round(tone * 255)), cv2.LINE_AA, _SHIFT)
        if part in PARTS:
            mask = np.zeros((size, size), np.uint8)
            cv2.fillPoly(mask, pixels, 1, cv2.LINE_8, _SHIFT)
            masks[part] = mask.astype(bool)
    image = canvas.astype(np.float32) / 255.0
    contrast = rng.uniform(0.6, 1.1)
    image = image.mean() + contrast * (image - image.mean())
    image += rng.normal(0.0, rng.uniform(0.0, 0.04), size=image.shape)
    return np.clip(image, 0.0, 1.0).astype(np.float32), masks


def faces(
    n: int,
    seed: int | None = 0,
    size: int = 48,
    classes: tuple[str, ...] | list[str] = DRAWABLE,
    channels: int = 1,
) -> SyntheticFaces:
    """Draw `n` cartoon faces, balanced over `classes`, with masks of their parts.

    Expressions: happy smiles with relaxed raised brows and squinted eyes; sad frowns
    with inner brow ends raised and drooping eyes; angry has a tight flat mouth, a V of
    brows and narrowed eyes. Position, scale, rotation, contrast, noise, skin tone and
    background vary per face. Same `seed`, same faces.

    Args:
        n: number of faces (>= 1).
        seed: seed of the numpy Generator; None draws fresh faces each call.
        size: image height and width in pixels (>= 16).
        classes: expressions in label order, any case; a subset of angry, happy, sad.
        channels: 1 (gray) or 3 (gray repeated as RGB).

    Returns:
        `SyntheticFaces` with float32 (n, size, size, channels) images in [0, 1],
        int64 (n,) labels, the class names and bool (n, size, size) masks for
        'face', 'brows', 'eyes' and 'mouth'.

    Raises:
        ValueError: bad `n`, `size` or `channels`, or a class that cannot be drawn.
    """
    names = _check_classes(classes)
    if int(n) < 1 or int(size) < 16 or channels not in (1, 3):
        raise ValueError(
            f"faces needs n >= 1, size >= 16 and channels 1 or 3; got n={n}, size={size}, "
            f"channels={channels}."
        )
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(int(n)) % len(names)).astype(np.int64)
    drawn = [_draw_face(names[label], int(size), rng) for label in labels]
    images = np.stack([image for image, _ in drawn])[..., None]
    masks = {part: np.stack([m[part] for _, m in drawn]) for part in PARTS}
    if channels == 3:
        images = np.repeat(images, 3, axis=-1)
    return SyntheticFaces(images, labels, names, masks)


def demo_faces(seed: int = 0) -> SyntheticFaces:
    """The dashboard's built-in demo set: 12 faces, 4 per class, grouped by class.

    Returns:
        `SyntheticFaces` of 12 (48, 48, 1) faces: 4 angry, then 4 happy, then 4 sad.
    """
    batch = faces(12, seed=seed)
    order = np.argsort(batch.labels, kind="stable")
    masks = {part: mask[order] for part, mask in batch.masks.items()}
    return SyntheticFaces(batch.images[order], batch.labels[order], batch.classes, masks)


SYNTHETIC_SEEDS = {"train": 0, "publictest": 1, "test": 1, "val": 2}
"""Seed of each split's faces, so the train, validation and test faces differ."""


def load_synthetic(
    split: str | None = "train",
    class_set: str = "emo3",
    count: int | None = None,
    size: int = 48,
    channels: int = 1,
) -> Dataset:
    """Synthetic faces of one split as a `Dataset` (the `emolens train --data synthetic` set).

    Args:
        split: picks the seed: "train" 0, "publictest"/"test" 1, "val" 2, anything else 3.
        class_set: a class set whose classes can all be drawn ("emo3").
        count: number of faces; default 1200 for "train", else 300.
        size: image height and width in pixels.
        channels: 1 (gray) or 3.

    Returns:
        A `Dataset` with float32 (count, size, size, channels) images in [0, 1], balanced
        over the classes; no extras (`faces` returns the part masks too).

    Raises:
        ValueError: a class set with classes that cannot be drawn (e.g. "fer7"), bad sizes.
    """
    drawn = faces(
        count or (1200 if split == "train" else 300),
        seed=SYNTHETIC_SEEDS.get(split, 3),
        size=size,
        classes=class_names(class_set),
        channels=channels,
    )
    return Dataset(drawn.images, drawn.labels, tuple(drawn.classes))


__all__ = [
    "DRAWABLE",
    "PARTS",
    "SYNTHETIC_SEEDS",
    "SyntheticFaces",
    "demo_faces",
    "faces",
    "load_synthetic",
]
