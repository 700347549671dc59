"""Faces with a known answer: one part decides the class, and an optional spurious corner mark."""

from __future__ import annotations

import copy

import cv2
import numpy as np

from emolens.explain.data.synthetic import (
    DRAWABLE,
    PARTS,
    SyntheticFaces,
    _check_classes,
    _draw_face,
)

MARK_SIZE = 6
"""Side of the spurious mark in pixels (a black/white checker patch in a corner)."""

_CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")


def deciding_faces(
    n: int,
    seed: int = 0,
    size: int = 48,
    part: str = "mouth",
    classes: tuple[str, ...] | list[str] = DRAWABLE,
) -> SyntheticFaces:
    """Synthetic faces whose class is decided by `part` alone; the other parts say nothing.

    Each face is drawn twice from the same random state (same pose, tones and noise): once
    with its labelled expression and once with an expression drawn uniformly at random. The
    image shows `part` from the first drawing and every other part from the second, so only
    `part` carries the label. A model trained on these faces can only use `part`, which makes
    `masks[part]` the ground truth an explanation should point at.

    Args:
        n: number of faces (>= 1), balanced over `classes`.
        seed: seed of the faces; the same seed gives the same faces.
        size: image height and width in pixels (>= 16).
        part: the deciding part: "brows", "eyes" or "mouth".
        classes: expressions in label order; a subset of angry, happy, sad.

    Returns:
        `SyntheticFaces`: float32 (n, size, size, 1) images in [0, 1], int64 (n,) labels and
        bool (n, size, size) masks of 'face', 'brows', 'eyes' and 'mouth' (the union of both
        drawings for the other parts, the labelled drawing's for `part`).

    Raises:
        ValueError: bad `n` or `size`, an unknown `part`, or a class that cannot be drawn.
    """
    names = _check_classes(classes)
    if part not in PARTS[1:] or int(n) < 1 or int(size) < 16:
        raise ValueError(
            f"deciding_faces needs part in {PARTS[1:]}, n >= 1 and size >= 16; got "
            f"part={part!r}, n={n}, size={size}."
        )
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(int(n)) % len(names)).astype(np.int64)
    others = rng.integers(0, len(names), int(n))
    kernel = np.ones((3, 3), np.uint8)
    images, masks = [], {p: [] for p in PARTS}
    for label, other in zip(labels, others, strict=True):
        state = copy.deepcopy(rng)
        labelled, labelled_masks = _draw_face(names[label], int(size), rng)
        shown, shown_masks = _draw_face(names[other], int(size), state)
        own = cv2.dilate(labelled_masks[part].astype(np.uint8), kernel).astype(bool)
        images.append(np.where(own, labelled, shown))
        for name in PARTS:
            union = labelled_masks[name] | shown_masks[name]
            masks[name].append(labelled_masks[name] if name == part else union & ~own)
    stacked = {name: np.stack(m) for name, m in masks.items()}
    return SyntheticFaces(np.stack(images)[..., None], labels, names, stacked)


def part_region(masks: np.ndarray, margin: int = 4) -> np.ndarray:
    """Grow part masks (N, H, W) by `margin` pixels (a disk): the region a map should cover.

    A part is a thin stroke (the mouth covers ~1% of a 48x48 face); maps computed on a coarse
    grid (a 12x12 CAM) spread over a few pixels around it, so the benchmark scores the part
    with a margin. margin 0 returns the masks unchanged.
    """
    masks = np.asarray(masks, dtype=bool)
    if margin <= 0:
        return masks
    offsets = np.arange(-margin, margin + 1)
    disk = (np.hypot(offsets[:, None], offsets[None, :]) <= margin).astype(np.uint8)
    return np.stack([cv2.dilate(m.astype(np.uint8), disk).astype(bool) for m in masks])


def mark_masks(labels: np.ndarray, size: int = 48) -> np.ndarray:
    """Where `add_mark` puts each face's mark: bool (N, size, size), class k -> corner k."""
    labels = np.asarray(labels, dtype=np.int64)
    masks = np.zeros((len(labels), size, size), bool)
    for i, label in enumerate(labels):
        corner = _CORNERS[int(label) % len(_CORNERS)]
        rows = slice(0, MARK_SIZE) if corner.startswith("top") else slice(size - MARK_SIZE, size)
        cols = slice(0, MARK_SIZE) if corner.endswith("left") else slice(size - MARK_SIZE, size)
        masks[i, rows, cols] = True
    return masks


def add_mark(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paint a spurious mark whose corner encodes the label (the "Clever Hans" shortcut).

    Args:
        images: float32 (N, H, W, C) in [0, 1], square.
        labels: (N,) ints; class k's mark goes to corner k (top left, top right, bottom left,
            bottom right).

    Returns:
        (marked images float32 (N, H, W, C), bool (N, H, W) masks of the marks).
    """
    images = np.array(images, dtype=np.float32, copy=True)
    masks = mark_masks(labels, images.shape[1])
    checker = (np.indices(images.shape[1:3]).sum(axis=0) // 2) % 2  # 2-pixel checker
    pattern = np.broadcast_to(checker[None, ..., None], images.shape).astype(np.float32)
    images[masks] = pattern[masks]
    return images, masks
