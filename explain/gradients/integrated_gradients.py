"""Integrated Gradients: path integral of input gradients from a baseline to the image."""

from __future__ import annotations

import cv2
import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain._maps import to_unit_range
from emolens.explain.gradients._common import pair_chunks, prepare, target_gradients, top_classes
from emolens.explain.types import Images, Maps, Targets

Baseline = str | np.ndarray


@tf.function(reduce_retracing=True)
def _accumulate(head, images, baselines, alphas, weights, image_ids, step_ids, targets, total):
    """Add weighted gradients of one chunk of (image, step) pairs into `total` (B, H, W, C)."""
    starts = tf.gather(baselines, image_ids)  # (b, H, W, C)
    alpha = tf.gather(alphas, step_ids)[:, None, None, None]
    inputs = starts + alpha * (tf.gather(images, image_ids) - starts)
    grads = target_gradients(head, inputs, tf.gather(targets, image_ids))
    grads *= tf.gather(weights, step_ids)[:, None, None, None]
    return tf.tensor_scatter_nd_add(total, image_ids[:, None], grads)


def _baselines(images: Images, baseline: Baseline, blur_sigma: float) -> Images:
    """Baseline per image: 'black' zeros, 'blur' Gaussian-blurred image, or an array."""
    if isinstance(baseline, str):
        if baseline == "black":
            return np.zeros_like(images)
        if baseline == "blur":
            blurred = [cv2.GaussianBlur(image, (0, 0), blur_sigma) for image in images]
            return np.stack(blurred).reshape(images.shape).astype(np.float32)
        raise ValueError(
            f"Unknown baseline {baseline!r}. Use 'black', 'blur', or an array shaped like "
            f"one image {images.shape[1:]} or like the batch {images.shape}."
        )
    array = np.asarray(baseline, dtype=np.float32)
    if array.shape not in (images.shape, images.shape[1:]):
        raise ValueError(
            f"Baseline array has shape {array.shape}; expected one image {images.shape[1:]} "
            f"or the whole batch {images.shape}."
        )
    return np.broadcast_to(array, images.shape).astype(np.float32)


def trapezoid(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Path positions and trapezoid weights: `steps` points from 0 to 1, (steps,) each."""
    alphas = np.linspace(0.0, 1.0, steps, dtype=np.float32)
    weights = np.full((steps,), 1.0 / (steps - 1), dtype=np.float32)
    weights[[0, -1]] /= 2
    return alphas, weights


def integrated_gradients_attributions(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    *,
    baseline: Baseline = "black",
    steps: int = 32,
    batch_size: int = 32,
    blur_sigma: float = 4.0,
) -> Images:
    """Signed Integrated Gradients attributions, (N, H, W, C) float32, not normalised.

    Their sum over pixels and channels approximates logit(image) - logit(baseline) for the
    target class (completeness); the error shrinks as `steps` grows.
    Arguments as in `integrated_gradients`.
    """
    if steps < 2:
        raise ValueError(f"integrated_gradients needs steps >= 2 path points; got {steps}.")
    head, images, indices = prepare(model, images, targets, "integrated_gradients")
    if indices is None:
        indices = top_classes(head, images, batch_size)
    starts = _baselines(images, baseline, blur_sigma)
    alphas, weights = (tf.constant(values) for values in trapezoid(steps))
    attributions = []
    for block in batches(len(images), batch_size):
        block_images, block_starts = tf.constant(images[block]), tf.constant(starts[block])
        total = tf.zeros_like(block_images)
        for image_ids, step_ids in pair_chunks(len(block_images), steps, batch_size):
            total = _accumulate(
                head, block_images, block_starts, alphas, weights, tf.constant(image_ids),
                tf.constant(step_ids), tf.constant(indices[block]), total,
            )  # fmt: skip
        attributions.append(((block_images - block_starts) * total).numpy())
    return np.concatenate(attributions)


def integrated_gradients(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
    baseline: Baseline = "black",
    steps: int = 32,
    blur_sigma: float = 4.0,
) -> Maps:
    """Integrated Gradients maps: |sum over channels| of the attributions, per pixel.

    Gradients at `steps` points on the straight path from the baseline to the image are
    combined with the trapezoid rule, in chunks of `batch_size` (image, step) pairs, so
    memory does not grow with N x steps.

    Args:
        model: Keras classifier with a (N, num_classes) output; gradients are taken on logits.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: class to explain. None: each image's top class; int or class name: the same
            class for all; (N,) ints: one class per image.
        layer: unused (pixel-space method); accepted for the common signature.
        batch_size: path points per forward/backward pass.
        baseline: 'black' (zeros), 'blur' (Gaussian blur of each image, `blur_sigma` pixels),
            or an array shaped (H, W, C) or (N, H, W, C).
        steps: points on the path, both ends included (>= 2).
        blur_sigma: standard deviation in pixels of the 'blur' baseline.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: invalid `images`, `targets`, `baseline` or `steps`.

    Reference: Sundararajan et al., Axiomatic Attribution for Deep Networks,
    https://arxiv.org/abs/1703.01365
    """
    attributions = integrated_gradients_attributions(
        model, images, targets, baseline=baseline, steps=steps, batch_size=batch_size,
        blur_sigma=blur_sigma,
    )  # fmt: skip
    return to_unit_range(np.abs(attributions.sum(axis=-1)))
