"""Ablation-CAM: channels weighted by the relative drop of the logit when each is zeroed."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from explain._batch import batches
from explain._layers import channel_scaled_model
from explain.cam._gradient import prepare, resolve_top, unit_maps
from explain.types import Images, Maps, Targets


@tf.function(reduce_retracing=True)
def _acts_and_scores(features, images, targets):
    acts, logits = features(images, training=False)  # (N,h,w,K), (N,classes)
    chosen = resolve_top(logits, targets)
    return acts, chosen, tf.gather(logits, chosen, batch_dims=1)  # (N,h,w,K), (N,), (N,)


@tf.function(reduce_retracing=True)
def _ablated_scores(scaled, images, pairs, targets, channels):
    """Logit of targets[i] for image i = pairs[p, 0] with channel pairs[p, 1] zeroed: (P,)."""
    keep = 1.0 - tf.one_hot(pairs[:, 1], channels)  # (P,K)
    logits = scaled([tf.gather(images, pairs[:, 0]), keep], training=False)
    return tf.gather(logits, tf.gather(targets, pairs[:, 0]), batch_dims=1)


def ablation_cam(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
) -> Maps:
    """Ablation-CAM heatmaps: ReLU(sum_k (y - y_k) / y * acts_k).

    y is the target logit, y_k the same logit with channel k of `layer` set to zero. One
    forward pass per channel that is not all zeros (an all-zero channel has weight 0);
    `batch_size` ablated images per pass. Where y = 0 the plain drop y - y_k is used.

    Args:
        model: Keras classifier with a (N, num_classes) output (its logits are used).
        images: float32 (N, H, W, C), values in [0, 1].
        targets: None: each image's top class; int or class name: one for all; (N,) ints.
        layer: name of a layer with (N, h, w, K) output. Default: the last such layer.
        batch_size: images (and ablated copies) per forward pass.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: `images` is not 4-D, unknown or non-spatial `layer`, bad target.

    Reference: Desai & Ramaswamy, Ablation-CAM, WACV 2020,
    https://openaccess.thecvf.com/content_WACV_2020/html/Desai_Ablation-CAM_Visual_Explanations_for_Deep_Convolutional_Network_via_Gradient-free_Localization_WACV_2020_paper.html
    """
    images, features, indices = prepare(model, images, targets, layer, "ablation_cam")
    scaled = channel_scaled_model(model, layer)
    maps = np.empty(images.shape[:3], dtype=np.float32)
    for part in batches(len(images), batch_size):
        batch = tf.constant(images[part])
        acts, chosen, scores = _acts_and_scores(features, batch, tf.constant(indices[part]))
        acts, scores = acts.numpy(), scores.numpy()
        pairs = np.argwhere(np.abs(acts).max(axis=(1, 2)) > 0).astype(np.int32)  # (P,2)
        drops = np.zeros((acts.shape[0], acts.shape[-1]), dtype=np.float32)  # (N,K)
        for chunk in batches(len(pairs), batch_size):
            ablated = _ablated_scores(
                scaled, batch, tf.constant(pairs[chunk]), chosen, acts.shape[-1]
            ).numpy()
            drops[pairs[chunk, 0], pairs[chunk, 1]] = scores[pairs[chunk, 0]] - ablated
        weights = drops / np.where(scores != 0, scores, 1.0)[:, None]
        maps[part] = unit_maps((acts * weights[:, None, None, :]).sum(-1), images.shape[1:3])
    return maps
