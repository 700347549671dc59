"""Occlusion: how much the target logit (or probability) drops when a patch is covered."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._maps import to_unit_range
from emolens.explain.perturbation._common import check_score, prepare_targets
from emolens.explain.perturbation._passes import in_passes, row_calls
from emolens.explain.types import Images, Maps, Targets


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"occlusion {name} must be a positive int or (h, w); got {value!r}.")
    return int(pair[0]), int(pair[1])


def _starts(size: int, patch: int, stride: int) -> np.ndarray:
    """Patch start positions along one axis; the last patch always touches the edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return np.asarray(starts, dtype=np.int32)


@tf.function(reduce_retracing=True)
def _occluded_logits(head, images, corners, patch, fill, image_ids, patch_ids):
    """Logits of (image, patch position) pairs, PASS_ROWS per forward pass: (R, num_classes)."""

    def one_pass(ids, positions):
        inputs = tf.gather(images, ids)  # (b, H, W, C)
        height, width = tf.shape(inputs)[1], tf.shape(inputs)[2]
        top_left = tf.gather(corners, positions)  # (b, 2)
        rows = tf.range(height)[None, :] - top_left[:, :1]  # (b, H)
        cols = tf.range(width)[None, :] - top_left[:, 1:]  # (b, W)
        inside_rows = (rows >= 0) & (rows < patch[0])
        inside_cols = (cols >= 0) & (cols < patch[1])
        covered = inside_rows[:, :, None, None] & inside_cols[:, None, :, None]  # (b, H, W, 1)
        return head(tf.where(covered, fill, inputs), training=False)

    return in_passes(one_pass, image_ids, patch_ids)


def _target_scores(logits: np.ndarray, targets: np.ndarray, probability: bool) -> np.ndarray:
    """Each row's target logit or softmax probability: (b, classes), (b,) -> (b,) float64.

    Computed row by row in numpy: TensorFlow's softmax rounds a row differently depending on
    its position in the batch (about 1e-8), so equal logits could give unequal probabilities.
    """
    logits = logits.astype(np.float64)
    rows = np.arange(len(logits))
    if not probability:
        return logits[rows, targets]
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps[rows, targets] / exps.sum(axis=1)


def occlusion(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
    patch: int | tuple[int, int] = 8,
    stride: int | tuple[int, int] = 4,
    fill: float = 0.5,
    score: str = "logit",
) -> Maps:
    """Occlusion maps: mean drop in the target's score over the patches covering each pixel.

    Args:
        model: Keras classifier with a (N, num_classes) output; probabilities are the softmax
            of its logits.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: class to explain. None: each image's top class; int or class name: the same
            class for all; (N,) ints: one class per image.
        layer: unused (pixel-space method); accepted for the common signature.
        batch_size: occluded images per compiled call, rounded up to whole forward passes
            of `_passes.PASS_ROWS` images (a fixed shape, so maps never depend on it).
        patch: patch size in pixels, int or (h, w).
        stride: step between patches in pixels, int or (h, w); the last row and column of
            patches always reach the image edge.
        fill: value the patch is filled with (0.5: mid gray).
        score: what drops: "logit" (default; what the gradient methods explain) or
            "probability" (softmax of the logits, which also rises when other classes fall).

    Returns:
        float32 (N, H, W): ReLU of the score drop, each map scaled to [0, 1].

    Raises:
        ValueError: invalid `images`, `targets` or `score`, or a patch larger than the image.

    Reference: Zeiler and Fergus, Visualizing and Understanding Convolutional Networks,
    https://arxiv.org/abs/1311.2901
    """
    patch, stride = _pair(patch, "patch"), _pair(stride, "stride")
    probability = check_score(score, "occlusion")
    head, images, indices = prepare_targets(model, images, targets, "occlusion", batch_size)
    height, width = images.shape[1:3]
    if patch[0] > height or patch[1] > width:
        raise ValueError(f"occlusion patch {patch} is larger than the images ({height}, {width}).")
    grid = np.meshgrid(_starts(height, patch[0], stride[0]), _starts(width, patch[1], stride[1]))
    corners = np.stack([g.ravel() for g in grid], axis=1).astype(np.int32)  # (P, 2)
    # one more position, past the corner, covers nothing: the base image is scored by the
    # same compiled pass as the occluded ones, so a patch that changes no logit drops 0 exactly
    positions = tf.constant(np.concatenate([corners, [[height, width]]]).astype(np.int32))
    num_positions = len(corners) + 1
    all_images = tf.constant(images)
    scores = np.empty(len(images) * num_positions, dtype=np.float64)  # row n * P' + p
    for rows, count in row_calls(len(scores), batch_size):
        image_ids, patch_ids = rows // num_positions, rows % num_positions
        logits = _occluded_logits(
            head, all_images, positions, tf.constant(patch, tf.int32),
            tf.constant(fill, tf.float32), tf.constant(image_ids), tf.constant(patch_ids),
        ).numpy()[:count]  # fmt: skip
        scores[rows[:count]] = _target_scores(logits, indices[image_ids[:count]], probability)
    scores = scores.reshape(len(images), num_positions)
    drops = (scores[:, -1:] - scores[:, :-1]).astype(np.float32)  # (N, P)
    return to_unit_range(_spread(np.maximum(drops, 0.0), corners, patch, (height, width)))


def _spread(drops: np.ndarray, corners: np.ndarray, patch, size) -> np.ndarray:
    """Mean of per-patch drops (N, P) over the patches covering each pixel: (N, H, W).

    Pixels no patch covers (stride > patch) get 0.
    """
    total = np.zeros((len(drops), *size), dtype=np.float32)
    count = np.zeros(size, dtype=np.float32)
    for p, (y, x) in enumerate(corners):
        total[:, y : y + patch[0], x : x + patch[1]] += drops[:, p, None, None]
        count[y : y + patch[0], x : x + patch[1]] += 1
    return total / np.maximum(count, 1)
