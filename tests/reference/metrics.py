"""Slow, obvious metric references: one image at a time, one model call per step, numpy.

Written from the papers' definitions (RISE deletion/insertion, ROAD's neighbour-average
imputation), for models that end Dense "logits" -> Softmax "probs" (tests/toy_models).
Pixel order: descending relevance, ties in row-major order; step s moves round(s*P/steps)
pixels (Python's round, half to even, like numpy's).
"""

from __future__ import annotations

import cv2
import keras
import numpy as np

_LOGITS: dict = {}


def score(model, image, target, kind="logit"):
    """Target logit (or softmax probability) of one image (H, W, C): float."""
    if id(model) not in _LOGITS:
        _LOGITS[id(model)] = keras.Model(model.inputs[0], model.get_layer("logits").output)
    logits = np.asarray(_LOGITS[id(model)](image[None], training=False), np.float64)[0]
    if kind == "probability":
        logits = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    return float(logits[target])


def fill_image(image, baseline):
    """What removed pixels become for one image (H, W, C)."""
    if baseline == "black":
        return np.zeros_like(image)
    if baseline == "mean":
        return np.ones_like(image) * image.mean(axis=(0, 1))
    sigma = 0.1 * max(image.shape[:2])
    channels = [
        cv2.GaussianBlur(image[..., c], (0, 0), sigmaX=sigma) for c in range(image.shape[-1])
    ]
    return np.stack(channels, axis=-1)


def pixel_order(relevance):
    """Flat pixel indices, most relevant first, ties by index."""
    flat = relevance.ravel()
    return sorted(range(flat.size), key=lambda p: (-flat[p], p))


def curve(model, image, relevance, target, steps, baseline, insert=False, kind="logit"):
    """Deletion (or insertion) curve of one image: (steps + 1,) float."""
    height, width, _ = image.shape
    order, fill = pixel_order(relevance), fill_image(image, baseline)
    start, end = (fill, image) if insert else (image, fill)
    values = []
    for s in range(steps + 1):
        current = start.copy()
        for p in order[: round(s * height * width / steps)]:
            current[p // width, p % width] = end[p // width, p % width]
        values.append(score(model, current, target, kind))
    return np.asarray(values)


NEIGHBOURS = {(-1, -1): 1 / 12, (-1, 0): 1 / 6, (-1, 1): 1 / 12, (0, -1): 1 / 6,
              (0, 1): 1 / 6, (1, -1): 1 / 12, (1, 0): 1 / 6, (1, 1): 1 / 12}  # fmt: skip


def impute(image, removed):
    """ROAD linear imputation of one image, dense solve: removed pixel = weighted mean of its
    in-bounds neighbours (weights renormalised), kept pixels fixed."""
    height, width, channels = image.shape
    unknown = [(y, x) for y in range(height) for x in range(width) if removed[y, x]]
    index = {pixel: i for i, pixel in enumerate(unknown)}
    system = np.zeros((len(unknown), len(unknown)))
    rhs = np.zeros((len(unknown), channels))
    for i, (y, x) in enumerate(unknown):
        for (dy, dx), weight in NEIGHBOURS.items():
            ny, nx = y + dy, x + dx
            if not (0 <= ny < height and 0 <= nx < width):
                continue
            system[i, i] += weight
            if (ny, nx) in index:
                system[i, index[ny, nx]] -= weight
            else:
                rhs[i] += weight * image[ny, nx]
    filled = image.astype(np.float64).copy()
    if unknown:
        solved = np.linalg.solve(system, rhs)
        for i, (y, x) in enumerate(unknown):
            filled[y, x] = solved[i]
    return filled


def road_curve(model, image, relevance, target, fractions, order="morf", kind="logit"):
    """ROAD without noise for one image: score after imputing each fraction: (F,)."""
    ranked = pixel_order(relevance)
    if order == "lerf":  # least relevant first: the same order reversed
        ranked = ranked[::-1]
    height, width, _ = image.shape
    values = []
    for fraction in fractions:
        removed = np.zeros((height, width), bool)
        for p in ranked[: round(fraction * height * width)]:
            removed[p // width, p % width] = True
        values.append(score(model, impute(image, removed).astype(np.float32), target, kind))
    return np.asarray(values)
