"""Shared ViT plumbing: find attention layers, fuse heads, CLS rows -> image-sized maps."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import as_images, as_targets, batches, model_classes
from emolens.explain._layers import _walk, find_layer, outputs_model
from emolens.explain._maps import resize_maps, to_unit_range
from emolens.explain.types import Maps, Targets

HEAD_FUSIONS = ("mean", "max", "min")


def _has_scores(layer: keras.layers.Layer) -> bool:
    """A MultiHeadAttention layer called with return_attention_scores=True."""
    try:
        output = layer.output
    except (AttributeError, ValueError):
        return False
    return isinstance(output, (list, tuple)) and len(output) == 2


def find_attention_layers(model: keras.Model, names: Sequence[str] | None = None) -> list[str]:
    """Qualified names of the attention layers of `model`, input first.

    Default: layers named 'attn_probs...'; if there are none, MultiHeadAttention layers called
    with `return_attention_scores=True`.

    Raises:
        ValueError: the model has no attention layers, or a name in `names` is not in it.
    """
    if names is not None:
        return [find_layer(model, name)[0] for name in names]
    walked = list(_walk(model))
    found = [name for name, layer, _ in walked if layer.name.startswith("attn_probs")]
    if not found:
        found = [
            name
            for name, layer, _ in walked
            if isinstance(layer, keras.layers.MultiHeadAttention) and _has_scores(layer)
        ]
    if not found:
        raise ValueError(
            f"Attention methods need attention layers (named 'attn_probs...' or "
            f"MultiHeadAttention called with return_attention_scores=True); model "
            f"{model.name!r} has none; use grad_cam for CNNs, or pass attention_layers=[...]."
        )
    return found


def layers_up_to(names: list[str], layer: str | int | None, model: keras.Model) -> list[str]:
    """`names` up to and including `layer` (name or index into `names`; None: all).

    Raises:
        ValueError: `layer` is not one of the attention layers.
    """
    if layer is None:
        return names
    if isinstance(layer, (int, np.integer)):
        if not -len(names) <= int(layer) < len(names):
            raise ValueError(
                f"Attention layer index {layer} is out of range ({len(names)} layers)."
            )
        return names[: int(layer) % len(names) + 1]
    qualified = find_layer(model, layer)[0]
    if qualified not in names:
        raise ValueError(
            f"Layer {layer!r} is not an attention layer of model {model.name!r}. "
            f"Attention layers: {', '.join(names)}."
        )
    return names[: names.index(qualified) + 1]


def fuse_heads(attn: tf.Tensor, head_fusion: str) -> tf.Tensor:
    """Combine heads: (N, heads, T, T) -> (N, T, T) by mean, max or min."""
    if head_fusion == "mean":
        return tf.reduce_mean(attn, axis=1)
    if head_fusion == "max":
        return tf.reduce_max(attn, axis=1)
    return tf.reduce_min(attn, axis=1)


def check_fusion(head_fusion: str) -> None:
    """Raise ValueError unless `head_fusion` is 'mean', 'max' or 'min'."""
    if head_fusion not in HEAD_FUSIONS:
        raise ValueError(f"head_fusion must be one of {HEAD_FUSIONS}; got {head_fusion!r}.")


def patch_grid(num_patches: int, image_size: tuple[int, int]) -> tuple[int, int]:
    """(rows, cols) of the patch grid with the image's aspect ratio, row-major patches.

    Raises:
        ValueError: `num_patches` does not tile the image.
    """
    height, width = image_size
    rows = round(math.sqrt(num_patches * height / width))
    if rows < 1 or num_patches % rows or (num_patches // rows) * height != rows * width:
        raise ValueError(
            f"{num_patches} patch tokens (after the class token) do not form a grid with the "
            f"image's {height}x{width} aspect ratio. Token 0 must be the class token."
        )
    return rows, num_patches // rows


def run_attention(
    step: Callable,
    model: keras.Model,
    images: np.ndarray,
    targets: Targets,
    names: list[str],
    caller: str,
    batch_size: int,
) -> Maps:
    """Run `step(sub_model, images, targets (-1 = top class))` per batch -> maps in [0, 1].

    `step` returns the class token's row (N, T) over all tokens; the patch part becomes the map.
    """
    images = as_images(images, caller, model, single_output=False)
    sub_model = outputs_model(model, tuple(names))
    num_classes = int(sub_model.outputs[-1].shape[-1])
    indices = as_targets(targets, len(images), num_classes, model_classes(model))
    indices = np.full(len(images), -1, np.int32) if indices is None else indices
    rows = [
        step(sub_model, tf.constant(images[part]), tf.constant(indices[part])).numpy()
        for part in batches(len(images), batch_size)
    ]
    cls_rows = np.concatenate(rows)[:, 1:]  # (N, T - 1) patches only
    grid = patch_grid(cls_rows.shape[1], images.shape[1:3])
    maps = resize_maps(cls_rows.reshape(-1, *grid), images.shape[1:3])
    return to_unit_range(maps)
