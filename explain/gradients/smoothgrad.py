"""SmoothGrad: input gradients averaged over Gaussian-noised copies of each image."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain._maps import to_unit_range
from emolens.explain.gradients._common import (
    channel_magnitude,
    pair_chunks,
    prepare,
    target_gradients,
    top_classes,
)
from emolens.explain.types import Images, Maps, Targets


@tf.function(reduce_retracing=True)
def _accumulate(head, images, sds, noise, image_ids, sample_ids, targets, total):
    """Add the gradients of one chunk of (image, sample) pairs into `total` (B, H, W, C)."""
    inputs = tf.gather(images, image_ids) + tf.gather(sds, image_ids)[
        :, None, None, None
    ] * tf.gather(noise, sample_ids)  # (b, H, W, C)
    grads = target_gradients(head, inputs, tf.gather(targets, image_ids))
    return tf.tensor_scatter_nd_add(total, image_ids[:, None], grads)


def smoothgrad(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
    n_samples: int = 25,
    noise_level: float = 0.15,
    seed: int = 0,
) -> Maps:
    """SmoothGrad maps: max over channels of |mean gradient over noisy copies|.

    The noise is drawn once per call, (n_samples, H, W, C) from `seed`, and shared by all
    images, so a map does not depend on which other images are in the batch. Work is split
    into chunks of `batch_size` (image, sample) pairs, so memory does not grow with
    N x n_samples.

    Args:
        model: Keras classifier with a (N, num_classes) output; gradients are taken on logits.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: class to explain. None: each image's top class; int or class name: the same
            class for all; (N,) ints: one class per image.
        layer: unused (pixel-space method); accepted for the common signature.
        batch_size: noisy images per forward/backward pass.
        n_samples: noisy copies per image.
        noise_level: noise standard deviation as a fraction of each image's value range.
        seed: seed of the noise; the same seed gives the same maps.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: invalid `images`, `targets`, `n_samples` < 1 or `noise_level` < 0.

    Reference: Smilkov et al., SmoothGrad, https://arxiv.org/abs/1706.03825
    """
    if n_samples < 1 or noise_level < 0:
        raise ValueError(
            f"smoothgrad needs n_samples >= 1 and noise_level >= 0; got n_samples={n_samples}, "
            f"noise_level={noise_level}. Typical values: n_samples=25, noise_level=0.15."
        )
    head, images, indices = prepare(model, images, targets, "smoothgrad")
    if indices is None:
        indices = top_classes(head, images, batch_size)
    rng = np.random.default_rng(seed)
    noise = tf.constant(rng.standard_normal((n_samples, *images.shape[1:]), dtype=np.float32))
    spans = np.ptp(images.reshape(len(images), -1), axis=1)
    sds = (noise_level * np.where(spans > 0, spans, 1.0)).astype(np.float32)  # (N,)
    means = []
    for block in batches(len(images), batch_size):
        block_images = tf.constant(images[block])
        total = tf.zeros_like(block_images)
        for image_ids, sample_ids in pair_chunks(len(block_images), n_samples, batch_size):
            total = _accumulate(
                head, block_images, tf.constant(sds[block]), noise,
                tf.constant(image_ids), tf.constant(sample_ids), tf.constant(indices[block]), total,
            )  # fmt: skip
        means.append(total.numpy() / n_samples)
    return to_unit_range(channel_magnitude(np.concatenate(means)))
