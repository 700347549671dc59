"""Tiny ViTs whose attention is a fixed, known pattern (test helpers for explain.vit)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


class FixedAttention(keras.layers.Layer):
    """The same attention pattern for every image: (N, T, D) -> (N, heads, T, T)."""

    def __init__(self, pattern, **kwargs):
        super().__init__(**kwargs)
        self.pattern = np.asarray(pattern, dtype=np.float32)

    def call(self, tokens):
        batch = ops.shape(tokens)[0]
        pattern = ops.broadcast_to(
            ops.convert_to_tensor(self.pattern), (batch, *self.pattern.shape)
        )
        # + 0 * tokens: real attention depends on the input, and GradientTape only tracks
        # tensors computed from watched ones (the images)
        return pattern + 0.0 * ops.mean(tokens, axis=(1, 2))[:, None, None, None]


class MixTokens(keras.layers.Layer):
    """Attention applied to the tokens, heads averaged: (N, h, T, T), (N, T, D) -> (N, T, D)."""

    def call(self, inputs):
        attn, tokens = inputs
        return ops.mean(ops.einsum("nhts,nsd->nhtd", attn, tokens), axis=1)


def fixed_attention_vit(patterns: list[np.ndarray], image_size: int = 4, patch: int = 2):
    """ViT-shaped model: patch tokens = patch means, CLS = 0, layers `attn_probs_{i}` = patterns.

    Logit 0 is the class token after all layers, logit 1 its negative. With one layer, the
    gradient of logit 0 w.r.t. attn[h, 0, s] is v_s / heads (v_s = mean of patch s).
    """
    images = keras.Input(shape=(image_size, image_size, 1), name="image")
    grid = image_size // patch
    x = keras.layers.AveragePooling2D(patch, name="patch_mean")(images)
    x = keras.layers.Reshape((grid * grid, 1), name="patch_tokens")(x)
    tokens = keras.layers.ZeroPadding1D((1, 0), name="cls_token")(x)  # (N, T, 1)
    for i, pattern in enumerate(patterns):
        attn = FixedAttention(pattern, name=f"attn_probs_{i}")(tokens)
        tokens = MixTokens(name=f"mix_{i}")([attn, tokens])
    cls = keras.layers.Flatten(name="cls_flat")(
        keras.layers.Cropping1D((0, grid * grid), name="cls_output")(tokens)
    )
    head = keras.layers.Dense(2, name="logits")
    logits = head(cls)
    head.set_weights([np.array([[1.0, -1.0]], np.float32), np.zeros(2, np.float32)])
    return keras.Model(images, keras.layers.Softmax(name="probs")(logits), name="fixed_vit")


def random_attention(heads: int, tokens: int, seed: int) -> np.ndarray:
    """Row-stochastic attention (heads, T, T) with positive entries."""
    logits = np.random.default_rng(seed).normal(size=(heads, tokens, tokens))
    probs = np.exp(logits)
    return (probs / probs.sum(-1, keepdims=True)).astype(np.float32)


def reference_rollout(patterns, head_fusion="mean", discard_ratio=0.0) -> np.ndarray:
    """Slow rollout from the paper for one image: class-token row over patches (T - 1,)."""
    fuse = {"mean": np.mean, "max": np.max, "min": np.min}[head_fusion]
    rollout = None
    for pattern in patterns:
        fused = fuse(np.asarray(pattern, np.float64), axis=0)
        if discard_ratio > 0:
            values = np.sort(fused.ravel())[::-1]
            keep = max(fused.size - int(np.float32(fused.size) * np.float32(discard_ratio)), 1)
            fused = np.where(fused >= values[keep - 1], fused, 0.0)
        mixed = fused + np.eye(len(fused))
        mixed = mixed / mixed.sum(axis=1, keepdims=True)
        rollout = mixed if rollout is None else mixed @ rollout
    return rollout[0, 1:]
