"""RISE: random masks weighted by the target logit (or probability) of the masked image."""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain._maps import to_unit_range
from emolens.explain.perturbation._common import check_score, prepare_targets, target_scores
from emolens.explain.perturbation._passes import in_passes, row_calls
from emolens.explain.types import Images, Maps, Targets

_MASK_CHUNK = 64  # masks upsampled at once when summing them (a fixed shape: see _passes)


@tf.function(reduce_retracing=True)
def _masks(grids, shifts, size, upsampled):
    """Upsample binary grids (m, s, s) bilinearly and crop at `shifts` (m, 2): (m, H, W)."""
    smooth = tf.image.resize(grids[..., None], upsampled, method="bilinear")[..., 0]
    rows = shifts[:, :1] + tf.range(size[0])[None, :]  # (m, H)
    cols = shifts[:, 1:] + tf.range(size[1])[None, :]  # (m, W)
    smooth = tf.gather(smooth, rows, axis=1, batch_dims=1)  # (m, H, S)
    return tf.gather(smooth, cols, axis=2, batch_dims=1)  # (m, H, W)


@tf.function(reduce_retracing=True)
def _masked_scores(head, images, targets, grids, shifts, size, upsampled, probability, rows):
    """Target scores of (image, mask) pairs, row n * M + m, PASS_ROWS per forward pass: (R,)."""
    num_masks = tf.shape(grids)[0]

    def one_pass(image_ids, mask_ids):
        masks = _masks(tf.gather(grids, mask_ids), tf.gather(shifts, mask_ids), size, upsampled)
        inputs = tf.gather(images, image_ids) * masks[..., None]  # (b, H, W, C)
        return target_scores(head, inputs, tf.gather(targets, image_ids), probability)

    return in_passes(one_pass, rows // num_masks, rows % num_masks)


def _weighted_mask_sums(weights, grids, shifts, size, upsampled) -> np.ndarray:
    """sum_m weights[:, m] mask_m in float64, masks in fixed chunks: (N, M) -> (N, H, W)."""
    sums = np.zeros((len(weights), size[0] * size[1]), np.float64)
    for chunk in batches(len(grids), _MASK_CHUNK):
        masks = _masks(grids[chunk], shifts[chunk], tf.constant(size, tf.int32), upsampled)
        sums += weights[:, chunk] @ masks.numpy().reshape(len(masks), -1).astype(np.float64)
    return sums.reshape(len(weights), *size)


def rise(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
    n_masks: int = 1000,
    cells: int = 8,
    keep: float = 0.5,
    seed: int = 0,
    score: str = "logit",
) -> Maps:
    """RISE maps: mean of random masks weighted by the target's score they leave.

    Each mask is a random `cells` x `cells` binary grid (each cell kept with probability
    `keep`), upsampled bilinearly to (cells + 1) cell sizes and cropped at a random shift.
    Masks are drawn from `seed` and shared by all images, so a map does not depend on which
    other images are in the batch.

    Args:
        model: Keras classifier with a (N, num_classes) output; probabilities are the softmax
            of its logits.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: class to explain. None: each image's top class; int or class name: the same
            class for all; (N,) ints: one class per image.
        layer: unused (pixel-space method); accepted for the common signature.
        batch_size: masked images per compiled call, rounded up to whole forward passes of
            `_passes.PASS_ROWS` images (a fixed shape, so maps never depend on it).
        n_masks: random masks per image.
        cells: grid cells per side of the low-resolution masks.
        keep: probability that a cell is kept (not masked).
        seed: seed of the masks; the same seed gives the same maps.
        score: the weight of a mask: "logit" (default; what the gradient methods explain),
            centred on its mean over the masks since a logit's zero is arbitrary (the map is
            then the covariance of logit and mask), or "probability" (softmax of the logits,
            uncentred, as in the paper).

    Returns:
        float32 (N, H, W), each map scaled to [0, 1] after a ReLU.

    Raises:
        ValueError: invalid `images`, `targets`, `n_masks`, `cells`, `keep` or `score`.

    Reference: Petsiuk et al., RISE, https://arxiv.org/abs/1806.07421
    """
    if n_masks < 1 or cells < 1 or not 0 < keep <= 1:
        raise ValueError(
            f"rise needs n_masks >= 1, cells >= 1 and 0 < keep <= 1; got n_masks={n_masks}, "
            f"cells={cells}, keep={keep}. Typical values: 1000, 8, 0.5."
        )
    probability = check_score(score, "rise")
    head, images, indices = prepare_targets(model, images, targets, "rise", batch_size)
    size = images.shape[1:3]
    cell = (math.ceil(size[0] / cells), math.ceil(size[1] / cells))
    rng = np.random.default_rng(seed)
    grids = (rng.random((n_masks, cells, cells)) < keep).astype(np.float32)
    shifts = np.stack([rng.integers(0, c, n_masks) for c in cell], axis=1).astype(np.int32)
    upsampled = tf.constant([(cells + 1) * cell[0], (cells + 1) * cell[1]], tf.int32)
    constants = (tf.constant(images), tf.constant(indices), tf.constant(grids), tf.constant(shifts))
    scores = np.empty(len(images) * n_masks, np.float64)  # row n * n_masks + m
    for rows, count in row_calls(len(scores), batch_size):
        passes = _masked_scores(
            head, *constants, tf.constant(size, tf.int32), upsampled, probability, tf.constant(rows)
        )
        scores[rows[:count]] = passes.numpy()[:count]
    scores = scores.reshape(len(images), n_masks)
    if not probability:  # sum_m (s_m - mean s) mask_m: centred before summing, in float64
        scores -= scores.mean(axis=1, keepdims=True)
    maps = _weighted_mask_sums(scores, grids, shifts, size, upsampled) / (n_masks * keep)
    return to_unit_range(maps)
