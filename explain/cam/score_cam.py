"""Score-CAM: channels weighted by the class probability of the image masked by each channel."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain._layers import logits_model
from emolens.explain.cam._gradient import cached_step, image_specs, prepare, resolve_top, unit_maps
from emolens.explain.types import Images, Maps, Targets


def _acts_step(features: keras.Model, shape: tuple[int, ...]):
    """Concrete fn images (N,H,W,C), targets (N,) -> acts (N,h,w,K), chosen targets (N,)."""

    def step(images, targets):
        acts, logits = features(images, training=False)  # (N,h,w,K), (N,classes)
        return acts, resolve_top(logits, targets)

    return tf.function(step).get_concrete_function(*image_specs(shape))


def unit_masks(acts: tf.Tensor, size) -> tf.Tensor:
    """Channel maps (P, h, w) -> upsampled to (P, H, W), min-max scaled; constant maps -> 0."""
    masks = tf.image.resize(acts[..., None], size, method="bilinear")[..., 0]
    low = tf.reduce_min(masks, axis=(1, 2), keepdims=True)
    span = tf.reduce_max(masks, axis=(1, 2), keepdims=True) - low
    return tf.where(span > 0.0, (masks - low) / tf.where(span > 0.0, span, 1.0), 0.0)


_BLOCK_BYTES = 2**27  # masked images made at once: bounded (128 MiB) whatever the image size


def _masked_step(shape: tuple[int, ...], grid: tuple[int, ...]):
    """Concrete fn: image pairs[p, 0] masked by its channel pairs[p, 1], for every pair.

    (images (N,H,W,C), acts (N,h,w,K), pairs (P,2)) -> masked images (P,H,W,C), all masks
    made in one vectorised op.
    """
    acts_spec = tf.TensorSpec((None, *grid), tf.float32)
    pairs_spec = tf.TensorSpec((None, 2), tf.int32)

    def step(images, acts, pairs):
        channel_maps = tf.gather_nd(tf.transpose(acts, (0, 3, 1, 2)), pairs)  # (P,h,w)
        masks = unit_masks(channel_maps, shape[:2])  # (P,H,W)
        return tf.gather(images, pairs[:, 0]) * masks[..., None]  # (P,H,W,C)

    return tf.function(step).get_concrete_function(image_specs(shape)[0], acts_spec, pairs_spec)


def _probs_step(head: keras.Model, shape: tuple[int, ...]):
    """Concrete fn: (masked (B,H,W,C), targets (B,)) -> probability of each target (B,).

    Static image sizes, so the model's graph keeps the shapes it was built for.
    """

    def step(masked, targets):
        probs = tf.nn.softmax(head(masked, training=False))  # (B,classes)
        return tf.gather(probs, targets, batch_dims=1)  # (B,)

    return tf.function(step).get_concrete_function(*image_specs(shape))


def live_pairs(acts: np.ndarray, top_k: int | None) -> np.ndarray:
    """(image, channel) pairs, int32 (P, 2), of channels whose map is not constant.

    With `top_k`, only each image's `top_k` channels of largest spatial std are kept.
    """
    spread = acts.std(axis=(1, 2))  # (N,K)
    live = acts.max(axis=(1, 2)) > acts.min(axis=(1, 2))
    if top_k is not None and top_k < acts.shape[-1]:
        order = np.argsort(-spread, axis=1, kind="stable")[:, :top_k]
        chosen = np.zeros_like(live)
        np.put_along_axis(chosen, order, True, axis=1)
        live &= chosen
    return np.argwhere(live).astype(np.int32)


def score_weights(model, images, acts, targets, top_k, batch_size) -> np.ndarray:
    """Score-CAM channel weights (N, K) for one batch of images and their acts.

    The masked images of a block of (image, channel) pairs are made in one compiled op
    (blocks bounded to 128 MiB), then go through the model `batch_size` per compiled pass;
    the scores of all pairs land in one array and are scattered into (N, K) at once.
    """
    head = logits_model(model)
    weights = np.zeros((acts.shape[0], acts.shape[-1]), dtype=np.float32)  # (N,K)
    constant = (acts.max(axis=(1, 2)) == acts.min(axis=(1, 2))) & (acts.max(axis=(1, 2)) != 0)
    if top_k is None and constant.any():  # a constant map masks the image to zeros
        blank = tf.nn.softmax(head(np.zeros_like(images[:1]), training=False)).numpy()[0]
        weights[constant] = blank[np.broadcast_to(targets[:, None], constant.shape)[constant]]
    pairs = live_pairs(acts, top_k)
    shape, grid = tuple(images.shape[1:]), tuple(acts.shape[1:])
    make_masked = cached_step(
        model, ("score_masks", shape, grid), lambda: _masked_step(shape, grid)
    )
    probs_of = cached_step(model, ("score_probs", head, shape), lambda: _probs_step(head, shape))
    images, acts = tf.convert_to_tensor(images), tf.convert_to_tensor(acts)  # once per batch
    pair_targets = targets[pairs[:, 0]].astype(np.int32)  # (P,)
    block = max(1, _BLOCK_BYTES // (4 * int(np.prod(shape))) // batch_size) * batch_size
    scores = []
    for start in range(0, len(pairs), block):  # masks for a whole block, then the passes
        masked = make_masked(images, acts, tf.constant(pairs[start : start + block]))
        sizes = [part.stop - part.start for part in batches(int(masked.shape[0]), batch_size)]
        chunks = zip(
            tf.split(masked, sizes),
            tf.split(tf.constant(pair_targets[start : start + block]), sizes),
            strict=True,
        )
        scores += [probs_of(chunk, chunk_targets) for chunk, chunk_targets in chunks]
    scores = np.concatenate([score.numpy() for score in scores]) if scores else np.empty((0,))
    weights[pairs[:, 0], pairs[:, 1]] = scores
    return weights


def score_cam(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | None = None,
    *,
    batch_size: int = 32,
    top_k: int | None = None,
) -> Maps:
    """Score-CAM heatmaps: ReLU(sum_k softmax(f(image * mask_k))[target] * acts_k).

    mask_k is channel k's map upsampled to the image and min-max scaled to [0, 1]; one
    forward pass per non-constant channel, `batch_size` masked images per pass.

    Args:
        model: Keras classifier with a (N, num_classes) output (its logits are used).
        images: float32 (N, H, W, C), values in [0, 1].
        targets: None: each image's top class; int or class name: one for all; (N,) ints.
        layer: name of a layer with (N, h, w, K) output, or a ViT token layer (N, T, K)
            seen on its patch grid. Default: the last such layer; on a ViT the input of
            its last attention block.
        batch_size: images (and masked images) per forward pass.
        top_k: keep only each image's `top_k` channels of largest spatial std ("Faster
            Score-CAM"); None uses every channel.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: `images` is not 4-D, unknown or non-spatial `layer`, bad target,
            or `top_k` < 1.

    Reference: Wang et al., Score-CAM, https://arxiv.org/abs/1910.01279
    """
    if top_k is not None and top_k < 1:
        raise ValueError(f"score_cam top_k must be >= 1 or None; got {top_k}.")
    images, features, indices = prepare(model, images, targets, layer, "score_cam")
    shape = images.shape[1:]
    acts_step = cached_step(
        model, ("score_cam", features, shape), lambda: _acts_step(features, shape)
    )
    maps = np.empty(images.shape[:3], dtype=np.float32)
    for part in batches(len(images), batch_size):
        batch = tf.constant(images[part])
        acts, chosen = acts_step(batch, tf.constant(indices[part]))
        acts, chosen = acts.numpy(), chosen.numpy()
        weights = score_weights(model, batch, acts, chosen, top_k, batch_size)
        maps[part] = unit_maps((acts * weights[:, None, None, :]).sum(-1), images.shape[1:3])
    return maps
