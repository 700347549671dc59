"""Batched deletion/insertion curves: every (image, step) pair scored in large compiled passes."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain.gradients._common import pair_chunks
from emolens.explain.metrics._baselines import baseline_images
from emolens.explain.metrics._common import (
    check_positive_int,
    check_score,
    prepare_scored,
    relevance_ranks,
    target_scores,
)
from emolens.explain.types import Images, Maps, Targets


def step_counts(num_pixels: int, steps: int) -> np.ndarray:
    """Pixels replaced after each step: (steps + 1,) int32, round(s * P / steps), 0 to P."""
    return np.round(np.arange(steps + 1) * num_pixels / steps).astype(np.int32)


@tf.function(reduce_retracing=True)
def _curve_scores(head, sources, replacements, ranks, counts, image_ids, step_ids, targets, prob):
    """Scores of one chunk of (image, step) pairs: (b,).

    A pixel (all its channels) comes from `replacements` once its rank is below the step's
    count, else from `sources`.
    """
    replaced = tf.gather(ranks, image_ids) < tf.gather(counts, step_ids)[:, None, None]  # (b,H,W)
    inputs = tf.where(
        replaced[..., None], tf.gather(replacements, image_ids), tf.gather(sources, image_ids)
    )  # (b, H, W, C)
    return target_scores(head, inputs, tf.gather(targets, image_ids), prob)


def ordered_curve(
    caller: str,
    model: keras.Model,
    images: Images,
    maps: Maps,
    targets: Targets,
    *,
    steps: int,
    baseline: str | float | np.ndarray,
    score: str,
    batch_size: int,
    insert: bool,
) -> np.ndarray:
    """Deletion (insert=False) or insertion (insert=True) curves: (N, steps + 1) float32.

    Column s scores the image after round(s * H * W / steps) pixels, most relevant first,
    went from the image to the baseline (deletion) or from the baseline to the image
    (insertion). Images are taken `batch_size` at a time; their (image, step) pairs are
    scored in chunks of `batch_size` pairs, one compiled forward pass each.
    """
    steps = check_positive_int(steps, "steps", caller)
    batch_size = check_positive_int(batch_size, "batch_size", caller)
    prob = check_score(score, caller)
    head, images, maps, indices = prepare_scored(model, images, maps, targets, caller, batch_size)
    fills = baseline_images(images, baseline, caller)
    sources, replacements = (fills, images) if insert else (images, fills)
    ranks = relevance_ranks(maps)  # (N, H, W)
    counts = tf.constant(step_counts(maps[0].size, steps))
    curves = np.empty((len(images), steps + 1), np.float32)
    for block in batches(len(images), batch_size):
        tensors = [tf.constant(a[block]) for a in (sources, replacements, ranks, indices)]
        for image_ids, step_ids in pair_chunks(block.stop - block.start, steps + 1, batch_size):
            curves[block.start + image_ids, step_ids] = _curve_scores(
                head, *tensors[:3], counts, tf.constant(image_ids), tf.constant(step_ids),
                tensors[3], prob,
            ).numpy()  # fmt: skip
    return curves


def curve_auc(curves: np.ndarray) -> np.ndarray:
    """Trapezoid area under (N, steps + 1) curves on x = fraction of pixels in [0, 1]: (N,)."""
    return np.trapezoid(curves, dx=1.0 / (curves.shape[1] - 1), axis=1).astype(np.float32)
