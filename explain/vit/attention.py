"""Raw attention of one ViT layer: the class token's attention to every patch."""

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


@tf.function(reduce_retracing=True)
def _cls_attention(sub_model, images, targets, head_fusion, head):
    """Class-token row of the last requested layer's attention, one head or fused: (N, T)."""
    attn = sub_model(images, training=False)[-2]  # (N, heads, T, T); [-1] is the logits
    if head is not None:
        return attn[:, head, 0, :]
    return fuse_heads(attn, head_fusion)[:, 0, :]


def attention_map(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | int | None = None,
    *,
    head_fusion: str = "mean",
    head: int | None = None,
    attention_layers: Sequence[str] | None = None,
    batch_size: int = 32,
) -> Maps:
    """Raw CLS-to-patch attention of one ViT layer (one head or all heads fused), upsampled.

    Args:
        model: Keras ViT whose attention probabilities are layer outputs (N, heads, T, T),
            token 0 the class token, patches in row-major order.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: checked like every method's targets, otherwise unused: raw attention does
            not depend on the class.
        layer: attention layer name (or index among them). Default: the last.
        head_fusion: "mean", "max" or "min" over heads (ignored when `head` is given).
        head: show this head alone (0-based) instead of fusing the heads.
        attention_layers: names of the attention layers, for ViTs whose layers are not named
            'attn_probs...' nor MultiHeadAttention with returned scores.
        batch_size: images per forward pass.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: the model has no attention layers (a CNN), `layer` is not one of them,
            `head_fusion` is unknown, or `head` is out of range.

    Reference: Dosovitskiy et al., An Image is Worth 16x16 Words, https://arxiv.org/abs/2010.11929
    """
    check_fusion(head_fusion)
    names = layers_up_to(find_attention_layers(model, attention_layers), layer, model)[-1:]

    def step(sub_model, batch, indices):
        heads = sub_model.outputs[-2].shape[1]
        if head is not None and not 0 <= head < heads:
            raise ValueError(f"head={head} is out of range: layer {names[0]!r} has {heads} heads.")
        return _cls_attention(sub_model, batch, indices, head_fusion, head)

    return run_attention(step, model, images, targets, names, "attention_map", batch_size)
