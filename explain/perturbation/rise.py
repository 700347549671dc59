"""RISE: random masks weighted by the target probability of the masked image."""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain._maps import to_unit_range
from emolens.explain.perturbation._common import prepare_targets, target_probs
from emolens.explain.types import Images, Maps, Targets


@tf.function(reduce_retracing=True)
def _masks(grids, shifts, size, upsampled):
    """Upsample binary grids (m, s, s) bilinearly and crop at `shifts` (m, 2): (m, H, W)."""
    smooth = tf.image.resize(grids[..., None], upsampled, method="bilinear")[..., 0]
    rows = shifts[:, :1] + tf.range(size[0])[None, :]  # (m, H)
    cols = shifts[:, 1:] + tf.range(size[1])[None, :]  # (m, W)
    smooth = tf.gather(smooth, rows, axis=1, batch_dims=1)  # (m, H, S)
    return tf.gather(smooth, cols, axis=2, batch_dims=1)  # (m, H, W)


@tf.function(reduce_retracing=True)
def _accumulate(head, images, masks, targets, total):
    """Add sum_m p(target | image * mask_m) mask_m into `total` (B, H, W)."""
    count, num_masks = tf.shape(images)[0], tf.shape(masks)[0]
    inputs = images[:, None] * masks[None, ..., None]  # (B, m, H, W, C)
    inputs = tf.reshape(inputs, tf.concat([[count * num_masks], tf.shape(images)[1:]], 0))
    probs = target_probs(head, inputs, tf.repeat(targets, num_masks))  # (B*m,)
    probs = tf.reshape(probs, tf.stack([count, num_masks]))
    return total + tf.einsum("bm,mhw->bhw", probs, masks)


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
) -> Maps:
    """RISE maps: mean of random masks weighted by the target probability they leave.

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
        batch_size: masked images per forward pass.
        n_masks: random masks per image.
        cells: grid cells per side of the low-resolution masks.
        keep: probability that a cell is kept (not masked).
        seed: seed of the masks; the same seed gives the same maps.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: invalid `images`, `targets`, `n_masks`, `cells` or `keep`.

    Reference: Petsiuk et al., RISE, https://arxiv.org/abs/1806.07421
    """
    if n_masks < 1 or cells < 1 or not 0 < keep <= 1:
        raise ValueError(
            f"rise needs n_masks >= 1, cells >= 1 and 0 < keep <= 1; got n_masks={n_masks}, "
            f"cells={cells}, keep={keep}. Typical values: 1000, 8, 0.5."
        )
    head, images, indices = prepare_targets(model, images, targets, "rise", batch_size)
    size = images.shape[1:3]
    cell = (math.ceil(size[0] / cells), math.ceil(size[1] / cells))
    rng = np.random.default_rng(seed)
    grids = (rng.random((n_masks, cells, cells)) < keep).astype(np.float32)
    shifts = np.stack([rng.integers(0, c, n_masks) for c in cell], axis=1).astype(np.int32)
    upsampled = tf.constant([(cells + 1) * cell[0], (cells + 1) * cell[1]], tf.int32)
    maps = []
    for block in batches(len(images), batch_size):
        block_images, block_targets = tf.constant(images[block]), tf.constant(indices[block])
        total = tf.zeros((len(block_images), *size), tf.float32)
        per_pass = max(1, batch_size // len(block_images))
        for rows in batches(n_masks, per_pass):
            masks = _masks(grids[rows], shifts[rows], tf.constant(size, tf.int32), upsampled)
            total = _accumulate(head, block_images, masks, block_targets, total)
        maps.append(total.numpy() / (n_masks * keep))
    return to_unit_range(np.concatenate(maps))
