"""Gradient-weighted attention relevance for a target class (Chefer et al. 2021)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from emolens.explain.types import Images, Maps, Targets
from emolens.explain.vit._attention_model import find_attention_layers, layers_up_to, run_attention


@tf.function(reduce_retracing=True)
def _relevance(sub_model, images, targets):
    """Class-token row of R = prod_l (I + mean_heads(relu(grad * attn))): (N, T)."""
    with tf.GradientTape() as tape:
        tape.watch(images)  # records ops on constant attention patterns too
        *attns, logits = sub_model(images, training=False)
        targets = tf.where(targets < 0, tf.argmax(logits, axis=-1, output_type=tf.int32), targets)
        score = tf.gather(logits, targets, batch_dims=1)  # (N,)
    grads = tape.gradient(score, attns)
    if any(grad is None for grad in grads):
        raise ValueError(
            "The logits do not depend on every attention layer's output, so attention_relevance "
            "has no gradient to weight them. Point attention_layers at the attention "
            "probabilities the model actually uses (e.g. its MultiHeadAttention layers)."
        )
    relevance = None
    for attn, grad in zip(attns, grads, strict=True):
        weighted = tf.reduce_mean(tf.nn.relu(grad * attn), axis=1)  # (N, T, T)
        if relevance is None:
            relevance = tf.eye(tf.shape(weighted)[-1], batch_shape=tf.shape(weighted)[:1])
        relevance = relevance + tf.matmul(weighted, relevance)
    return relevance[:, 0, :]


def attention_relevance(
    model: keras.Model,
    images: Images,
    targets: Targets = None,
    layer: str | int | None = None,
    *,
    attention_layers: Sequence[str] | None = None,
    batch_size: int = 32,
) -> Maps:
    """Class-specific relevance of each patch from gradient-weighted attention.

    Per layer, attention is weighted by the gradient of the target logit, ReLU'd and
    averaged over heads (Ā = E_h[(∇A ⊙ A)+]); relevance starts as the identity and
    accumulates R <- R + Ā R. The map is the class token's row over the patches.

    Args:
        model: Keras ViT whose attention probabilities are layer outputs (N, heads, T, T)
            that the logits depend on, token 0 the class token, patches row-major.
        images: float32 (N, H, W, C), values in [0, 1].
        targets: class to explain. None: each image's top class; int: the same class
            for all; (N,) ints: one class per image.
        layer: last attention layer to include (name, or index among them). Default: all.
        attention_layers: names of the attention layers, for ViTs whose layers are not named
            'attn_probs...' nor MultiHeadAttention with returned scores.
        batch_size: images per forward/backward pass.

    Returns:
        float32 (N, H, W), each map scaled to [0, 1].

    Raises:
        ValueError: the model has no attention layers (a CNN), `layer` is not one of them,
            the logits do not depend on an attention layer, or targets are out of range.

    Reference: Chefer et al., Generic Attention-model Explainability for Interpreting
    Bi-Modal and Encoder-Decoder Transformers, https://arxiv.org/abs/2103.15679
    """
    names = layers_up_to(find_attention_layers(model, attention_layers), layer, model)
    return run_attention(
        _relevance, model, images, targets, names, "attention_relevance", batch_size
    )
