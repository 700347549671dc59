"""Ablation-CAM: channels weighted by the relative drop of the logit when each is zeroed."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain._layers import channel_scaled_model
from emolens.explain.cam._gradient import cached_step, image_specs, prepare, resolve_top, unit_maps
from emolens.explain.types import Images, Maps, Targets


def _scores_step(features: keras.Model, shape: tuple[int, ...]):
    """Concrete fn images, targets (N,) -> acts (N,h,w,K), chosen (N,), target logits (N,)."""

    def step(images, targets):
        acts, logits = features(images, training=False)  # (N,h,w,K), (N,classes)
        chosen = resolve_top(logits, targets)
        return acts, chosen, tf.gather(logits, chosen, batch_dims=1)

    return tf.function(step).get_concrete_function(*image_specs(shape))


def _ablated_step(scaled: keras.Model, shape: tuple[int, ...], channels: int):
    """Concrete fn: logit of targets[i] for image i = pairs[p, 0], channel pairs[p, 1] zeroed.

    (images (N,H,W,C), pairs (P,2), targets (N,)) -> (P,).
    """
    image_spec, target_spec = image_specs(shape)

    def step(images, pairs, targets):
        keep = 1.0 - tf.one_hot(pairs[:, 1], channels)  # (P,K)
        logits = scaled([tf.gather(images, pairs[:, 0]), keep], training=False)
        return tf.gather(logits, tf.gather(targets, pairs[:, 0]), batch_dims=1)

    pairs_spec = tf.TensorSpec((None, 2), tf.int32)
    return tf.function(step).get_concrete_function(image_spec, pairs_spec, target_spec)


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
        layer: name of a layer with (N, h, w, K) output, or a ViT token layer (N, T, K)
            seen on its patch grid. Default: the last such layer; on a ViT the input of
            its last attention block.
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
    shape, channels = images.shape[1:], int(features.outputs[0].shape[-1])
    scores_step = cached_step(
        model, ("ablation_cam", features, shape), lambda: _scores_step(features, shape)
    )
    ablated_step = cached_step(
        model, ("ablation_cam", scaled, shape), lambda: _ablated_step(scaled, shape, channels)
    )
    maps = np.empty(images.shape[:3], dtype=np.float32)
    for part in batches(len(images), batch_size):
        batch = tf.constant(images[part])
        acts, chosen, scores = scores_step(batch, tf.constant(indices[part]))
        acts, scores = acts.numpy(), scores.numpy()
        pairs = np.argwhere(np.abs(acts).max(axis=(1, 2)) > 0).astype(np.int32)  # (P,2)
        ablated = np.empty((len(pairs),), dtype=np.float32)  # (P,)
        for chunk in batches(len(pairs), batch_size):
            ablated[chunk] = ablated_step(batch, tf.constant(pairs[chunk]), chosen).numpy()
        drops = np.zeros((acts.shape[0], channels), dtype=np.float32)  # (N,K)
        drops[pairs[:, 0], pairs[:, 1]] = scores[pairs[:, 0]] - ablated
        weights = drops / np.where(scores != 0, scores, 1.0)[:, None]
        maps[part] = unit_maps((acts * weights[:, None, None, :]).sum(-1), images.shape[1:3])
    return maps
