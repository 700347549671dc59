"""Layer activations (feature maps) for a batch of images, their top channels, and a grid figure."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import as_images, batches
from emolens.explain._layers import (
    _output_shape,
    _walk,
    find_layer,
    is_attention_layer,
    outputs_model,
)
from emolens.explain._notebook_figure import NotebookFigure as Figure

_CONVS = (
    keras.layers.Conv2D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
    keras.layers.Conv2DTranspose,
)
_BLOCK_TAIL = (
    keras.layers.BatchNormalization,
    keras.layers.ReLU,
    keras.layers.Activation,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
)
_NORMALIZE = ("per_channel", "per_layer")


class FeatureMaps(dict):
    """What `feature_maps` returns: {qualified layer name: float32 (N, ...)}, a plain dict.

    `attention` names the layers that hold attention scores (N, heads, T, T), not maps.
    """

    attention: tuple[str, ...] = ()


@tf.function(reduce_retracing=True)
def _forward(sub_model, images):
    return sub_model(images, training=False)


def _block_end(layer: keras.layers.Layer, owner: keras.Model) -> keras.layers.Layer:
    """Follow a conv through its only-consumer BatchNorm/activation layers to the block output."""
    nodes = {id(node) for depth in owner._nodes_by_depth.values() for node in depth}
    while True:
        consumers = [n.operation for n in layer._outbound_nodes if id(n) in nodes]
        if len(consumers) != 1 or not isinstance(consumers[0], _BLOCK_TAIL):
            return layer
        layer = consumers[0]


def default_layers(model: keras.Model) -> list[str]:
    """Qualified names of every conv block's output and every attention layer, input first.

    A conv block is a convolution plus the BatchNorm / activation layers that only it feeds, so
    `conv -> bn -> relu` contributes the ReLU output. Attention layers are MultiHeadAttention
    layers (their scores) and layers named 'attn_probs...'. Convolutions on a 1x1 grid (the
    squeeze-excitation gates of MobileNetV3 / EfficientNet) are left out: each of their maps is
    one pixel; pass their names to `feature_maps` to read them anyway.
    """
    names = []
    for name, layer, owner in _walk(model):
        if isinstance(layer, _CONVS):
            end = _block_end(layer, owner)
            if _one_pixel(end):
                continue
            names.append(name[: len(name) - len(layer.name)] + end.name)
        elif is_attention_layer(layer):
            names.append(name)
    return list(dict.fromkeys(names))


def _one_pixel(layer: keras.layers.Layer) -> bool:
    """Whether `layer`'s output is a (N, 1, 1, C) grid (False when its shape is unknown)."""
    shape = _output_shape(layer)
    return shape is not None and len(shape) == 4 and shape[1] == 1 and shape[2] == 1


def _layer_names(model: keras.Model, layers) -> list[str]:
    """Qualified names for `layers` given as None, a name, an index, or a list of those."""
    if layers is None:
        names = default_layers(model)
        if not names:
            raise ValueError(
                f"Model {model.name!r} has no convolution or attention layers to read. "
                "Pass layers=[...] with the names (or indices) of the layers you want."
            )
        return names
    if isinstance(layers, (str, int, np.integer)):
        layers = [layers]
    names = []
    for item in layers:
        if isinstance(item, (int, np.integer)):
            if not -len(model.layers) <= int(item) < len(model.layers):
                raise ValueError(
                    f"Layer index {int(item)} is out of range for model {model.name!r} "
                    f"with {len(model.layers)} layers."
                )
            item = model.layers[int(item)].name
        names.append(find_layer(model, item)[0])
    return names


def feature_maps(
    model: keras.Model,
    images: np.ndarray,
    layers: str | int | Sequence[str | int] | None = None,
    *,
    batch_size: int = 32,
) -> dict[str, np.ndarray]:
    """Activations of chosen layers for a batch of images.

    Args:
        model: Keras model; layers inside nested models are reachable as 'outer/inner'.
        images: float32 (N, H, W, C), values in [0, 1].
        layers: layer name, index into `model.layers`, or a list of those. Default: the
            output of every conv block (conv + its BatchNorm/activation) and every attention
            layer (`default_layers`).
        batch_size: images per forward pass.

    Returns:
        `FeatureMaps`, a dict {qualified layer name: float32 array (N, ...)} in the order
        asked; conv layers give (N, h, w, K), attention layers (N, heads, T, T)
        probabilities (their names in `.attention`).

    Raises:
        ValueError: `images` is not 4-D in [0, 1], or a layer is not in `model`.
    """
    images = as_images(images, "feature_maps")
    names = _layer_names(model, layers)
    sub_model = outputs_model(model, tuple(names))
    chunks: list[list[np.ndarray]] = [[] for _ in names]
    for part in batches(len(images), batch_size):
        outputs = _forward(sub_model, tf.constant(images[part]))
        for chunk, acts in zip(chunks, outputs[: len(names)], strict=True):
            chunk.append(acts.numpy())
    result = FeatureMaps(
        (name, np.concatenate(chunk).astype(np.float32, copy=False))
        for name, chunk in zip(names, chunks, strict=True)
    )
    result.attention = tuple(n for n in names if is_attention_layer(find_layer(model, n)[1]))
    return result


def top_channels(acts: np.ndarray, k: int = 16, by: str = "mean") -> np.ndarray:
    """Indices of each image's k most active channels, strongest first.

    Args:
        acts: float (N, ..., K) activations, channels last (e.g. (N, h, w, K)).
        k: channels to keep; at most K.
        by: "mean" or "max" of each channel over its spatial positions.

    Returns:
        int64 (N, min(k, K)); ties keep the lower channel index first.

    Raises:
        ValueError: `acts` has fewer than 2 dims, `k` < 1, or `by` is unknown.
    """
    acts = np.asarray(acts)
    if acts.ndim < 2:
        raise ValueError(f"top_channels expects acts shaped (N, ..., K); got {acts.shape}.")
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}.")
    if by not in ("mean", "max"):
        raise ValueError(f"by must be 'mean' or 'max'; got {by!r}.")
    flat = acts.reshape(acts.shape[0], -1, acts.shape[-1])  # (N, positions, K)
    scores = flat.mean(axis=1) if by == "mean" else flat.max(axis=1)  # (N, K)
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def _normalize(layer_acts: np.ndarray, channels: np.ndarray, mode: str) -> np.ndarray:
    """Scale maps of one image to [0, 1]: (h, w, K) -> (k, h, w); a flat map becomes zeros.

    per_channel: each map by its own [min, max]; per_layer: one [min, max] over all K channels.
    """
    maps = np.moveaxis(layer_acts[..., channels], -1, 0).astype(np.float32)  # (k, h, w)
    if mode == "per_channel":
        low = maps.min(axis=(1, 2), keepdims=True)
        high = maps.max(axis=(1, 2), keepdims=True)
    else:
        low, high = layer_acts.min(), layer_acts.max()
    span = np.where(high > low, high - low, 1.0)
    return np.where(high > low, (maps - low) / span, 0.0).astype(np.float32)


def plot_feature_maps(
    acts: np.ndarray | dict[str, np.ndarray],
    k: int = 16,
    normalize: str = "per_channel",
    *,
    index: int = 0,
    by: str = "mean",
    columns: int = 8,
    cmap: str = "viridis",
) -> Figure:
    """Grid figure of one image's top-k feature maps per layer.

    Every panel is drawn with vmin=0, vmax=1 after the stated normalisation, so brightness
    means the same thing across panels of a layer ("per_layer") or within each panel
    ("per_channel").

    Args:
        acts: float32 (N, h, w, K) or {layer name: (N, h, w, K)} as `feature_maps` returns.
        k: channels per layer, picked by `top_channels(..., by=by)` for image `index`.
        normalize: "per_channel" (each map to its own [min, max]) or "per_layer" (one
            [min, max] over all channels of the layer, so channels compare).
        index: which image of the batch.
        by: "mean" or "max", how channels are ranked.
        columns: panels per row.
        cmap: matplotlib colormap name.

    Returns:
        matplotlib Figure (not attached to pyplot); panel titles give the channel index.

    Raises:
        ValueError: an array is not 4-D, one is an attention layer's scores, `index` is out
            of range, or `normalize` is unknown.
    """
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be one of {_NORMALIZE}; got {normalize!r}.")
    layers = acts if isinstance(acts, dict) else {"feature maps": acts}
    attention = [name for name in getattr(acts, "attention", ()) if name in layers]
    if attention:
        raise ValueError(
            f"{', '.join(map(repr, attention))} hold attention scores (N, heads, T, T), not "
            "feature maps. Plot them with explain.attention_map, or leave them out: "
            "{k: v for k, v in acts.items() if k not in acts.attention}."
        )
    for name, array in layers.items():
        if np.ndim(array) != 4:
            raise ValueError(
                f"plot_feature_maps needs (N, h, w, K) arrays; {name!r} has shape "
                f"{np.shape(array)} (a token or dense layer has no spatial grid). Pick conv "
                "layers: explain.feature_maps(model, images, layers=[...])."
            )
        if not -len(array) <= index < len(array):
            raise ValueError(f"index {index} is out of range for {len(array)} images.")
    columns = max(1, min(columns, k))
    rows_per = {name: math.ceil(min(k, a.shape[-1]) / columns) for name, a in layers.items()}
    figure = Figure(figsize=(1.6 * columns, 1.7 * sum(rows_per.values()) + 0.6))
    grid = figure.add_gridspec(sum(rows_per.values()), columns)
    row = 0
    for name, array in layers.items():
        channels = top_channels(np.asarray(array)[[index]], k, by)[0]
        maps = _normalize(np.asarray(array[index]), channels, normalize)
        for i, (channel, panel) in enumerate(zip(channels, maps, strict=True)):
            axes = figure.add_subplot(grid[row + i // columns, i % columns])
            axes.imshow(panel, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
            axes.set_title(f"{name}\nch {channel}" if i == 0 else f"ch {channel}", fontsize=7)
            axes.set_axis_off()
        row += rows_per[name]
    how = "each map to its own [min, max]" if normalize == "per_channel" else "one range per layer"
    figure.suptitle(f"Top-{k} channels by {by}, image {index}; scaled {how}", fontsize=9)
    return figure
