"""Slow gradient-weighted attention relevance (Chefer et al. 2021), one image at a time, numpy.

R starts as the identity; for each attention layer in order, A_bar = mean over heads of
ReLU(grad * attn) and R <- R + A_bar @ R. The map is the class token's row over the patches.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def attention_probe(model: keras.Model, attentions: list) -> keras.Model:
    """image -> [attention (1, heads, T, T) per layer, input first..., logits]."""
    return keras.Model(model.inputs[0], [*attentions, model.get_layer("logits").output])


def relevance_row(probe: keras.Model, image: np.ndarray, target: int | None) -> np.ndarray:
    """Class-token relevance over the patches (T - 1,) of one image (H, W, C)."""
    pixels = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(pixels)  # records the path through attention that depends on no weight
        *attns, logits = probe(pixels, training=False)
        target = int(np.argmax(logits[0])) if target is None else target
        score = logits[0, target]
    grads = tape.gradient(score, attns)
    tokens = attns[0].shape[-1]
    relevance = np.eye(tokens)
    for attn, grad in zip(attns, grads, strict=True):
        weighted = np.maximum(grad[0].numpy() * attn[0].numpy(), 0.0).mean(axis=0)  # (T, T)
        relevance = relevance + weighted.astype(np.float64) @ relevance
    return relevance[0, 1:]


def attention_relevance(probe: keras.Model, images: np.ndarray, targets) -> np.ndarray:
    """Rows (N, T - 1) for each image; targets None (top class each) or one per image."""
    targets = [None] * len(images) if targets is None else list(targets)
    return np.stack([relevance_row(probe, im, t) for im, t in zip(images, targets, strict=True)])
