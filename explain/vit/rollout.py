"""Attention rollout: attention propagated through all layers, residuals included."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from emolens.explain.types import Images, Maps, Targets
from emolens.explain.vit._attention_model import (
    check_fusion,
    find_attention_layers,
    fuse_heads,
    layers_up_to,
    run_attention,
)


def _discard(fused: tf.Tensor, discard_ratio: float) -> tf.Tensor:
    """Zero the smallest `discard_ratio` of each (T, T) matrix; ties at the cut are kept."""
    tokens = tf.shape(fused)[-1]
    flat = tf.reshape(fused, (tf.shape(fused)[0], -1))  # (N, T*T)
    total = tokens * tokens
    keep = tf.maximum(total - tf.cast(tf.cast(total, tf.float32) * discard_ratio, tf.int32), 1)
    threshold = tf.math.top_k(flat, keep).values[:, -1:]  # (N, 1) smallest kept value
    return tf.reshape(tf.where(flat >= threshold, flat, 0.0), tf.shape(fused))


def with_residual(fused: tf.Tensor) -> tf.Tensor:
    """Add the residual identity and renormalise rows: (N, T, T) -> (N, T, T), rows sum to 1."""
    mixed = fused + tf.eye(tf.shape(fused)[-1], dtype=fused.dtype)
    return mixed / tf.reduce_sum(mixed, axis=-1, keepdims=True)


@tf.function(reduce_retracing=True)
def _rollout(sub_model, images, targets, head_fusion, discard_ratio):
    """Class-token row of the product of per-layer attentions, first layer innermost: (N, T)."""
    *attns, _ = sub_model(images, training=False)
    rollout = None
    for attn in attns:
        fused = fuse_heads(attn, head_fusion)  # (N, T, T)
        if discard_ratio > 0:
            fused = _discard(fused, discard_ratio)
        mixed = with_residual(fused)
        rollout = mixed if rollout is None else tf.matmul(mixed, rollout)
    return rollout[:, 0, :]


def attention_rollout(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | int | None = None,
    *,
    head_fusion: str = "mean",
    discard_ratio: float = 0.9,
    attention_layers: Sequence[str] | None = None,
    batch_size: int = 32,
) -> Maps:
    """Attention rollout maps (class token to patches), upsampled to the image.

    Per layer: fuse heads, zero the smallest `discard_ratio` of the entries, add the identity
    for the residual connection and renormalise rows; then multiply the layers' matrices.

    Args:
        model: Keras ViT whose attention probabilities are layer outputs (N, heads, T, T),
            token 0 the class token, patches in row-major order.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: checked like every method's targets, otherwise unused: rollout does not
            depend on the class.
        layer: last attention layer to roll out through (name, or index among them).
            Default: all of them.
        head_fusion: "mean", "max" or "min" over heads.
        discard_ratio: fraction in [0, 1) of each fused matrix's smallest entries set to zero.
        attention_layers: names of the attention layers, for ViTs whose layers are not named
            'attn_probs...' nor MultiHeadAttention with returned scores.
        batch_size: images per forward pass.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: the model has no attention layers (a CNN), `layer` is not one of them,
            `head_fusion` is unknown, or `discard_ratio` is outside [0, 1).

    Reference: Abnar & Zuidema, Quantifying Attention Flow in Transformers,
    https://arxiv.org/abs/2005.00928
    """
    check_fusion(head_fusion)
    if not 0.0 <= discard_ratio < 1.0:
        raise ValueError(f"discard_ratio must be in [0, 1); got {discard_ratio}.")
    names = layers_up_to(find_attention_layers(model, attention_layers), layer, model)

    def step(sub_model, batch, indices):
        return _rollout(sub_model, batch, indices, head_fusion, float(discard_ratio))

    return run_attention(step, model, images, targets, names, "attention_rollout", batch_size)
