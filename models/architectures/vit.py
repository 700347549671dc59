"""A small Vision Transformer (Dosovitskiy et al. 2021) that exposes its attention.

Every block's attention layer `block{i}_attn` (a Keras MultiHeadAttention) is called with
`return_attention_scores=True`, so its second output (N, heads, T, T) (token 0 is the class
token) is part of the graph: `explain` reads and differentiates it without hooks.
"""

from __future__ import annotations

import keras
from keras import layers

from emolens.models.architectures._common import conv_bn_relu, model_input
from emolens.models.layers import ClassToken, PositionEmbedding, gelu_tanh


def _stem(images, stem: str, dim: int, patch_size: int, widths, depth: int):
    """(N, H, W, C) -> (N, H / patch_size, W / patch_size, dim), last layer "patch_embed"."""
    if stem == "patch":
        return layers.Conv2D(dim, patch_size, strides=patch_size, name="patch_embed")(images)
    if stem != "conv":
        raise ValueError(f"Unknown stem {stem!r}; use 'patch' or 'conv'.")
    halvings = patch_size.bit_length() - 1
    if patch_size != 2**halvings:
        raise ValueError(
            f"stem='conv' needs a power-of-2 patch_size (2, 4, 8); got {patch_size}. "
            "Use stem='patch' for other patch sizes."
        )
    if widths is None:
        widths = [max(dim // 2 ** (halvings + 1 - i), 16) for i in range(halvings + 1)]
    if len(widths) != halvings + 1:
        size = images.shape[1]
        raise ValueError(
            f"stem_widths needs {halvings + 1} widths for patch_size={patch_size} (one per "
            f"resolution, halving {halvings} times: {size} -> {size // patch_size} px); "
            f"got {list(widths)}."
        )
    x = images
    for i, width in enumerate(widths):
        for j in range(depth):
            name = f"stem{i}" if j == 0 else f"stem{i}_{j}"
            x = conv_bn_relu(x, width, name, strides=2 if i and not j else 1)
    return layers.Conv2D(dim, 1, name="patch_embed")(x)


def _block(tokens, dim: int, heads: int, mlp_dim: int, dropout: float, i: int):
    x = layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_ln1")(tokens)
    attended, probs = layers.MultiHeadAttention(heads, dim // heads, name=f"block{i}_attn")(
        x, x, return_attention_scores=True
    )
    attended = layers.Dropout(dropout, name=f"block{i}_attn_drop")(attended)
    tokens = layers.Add(name=f"block{i}_res1")([tokens, attended])
    x = layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_ln2")(tokens)
    x = layers.Dense(mlp_dim, activation=gelu_tanh, name=f"block{i}_mlp1")(x)
    x = layers.Dropout(dropout, name=f"block{i}_mlp_drop")(x)
    x = layers.Dense(dim, name=f"block{i}_mlp2")(x)
    return layers.Add(name=f"block{i}_out")([tokens, x]), probs


def build_vit(
    input_shape=(48, 48, 1),
    num_classes: int = 3,
    patch_size: int = 4,
    dim: int = 192,
    depth: int = 6,
    heads: int = 6,
    mlp_dim: int = 384,
    dropout: float = 0.1,
    stem: str = "patch",
    stem_widths: tuple[int, ...] | list[int] | None = None,
    stem_depth: int = 1,
) -> keras.Model:
    """ViT with a class token; 48x48 and patch 4 give 144 patches + 1 token; ~1.9M params.

    `stem="patch"` embeds each patch with one strided conv (Dosovitskiy et al.);
    `stem="conv"` uses a small stack of 3x3 stride-2 convs instead (Xiao et al. 2021,
    "Early convolutions help transformers see better"), which trains faster and better on
    small data. `stem_widths` (one width per resolution, log2(patch_size) + 1 of them) and
    `stem_depth` (convs per resolution) make it a hybrid ViT with a VGG-like stem. Either
    way the tokens come from a layer named "patch_embed" on the same
    (H / patch_size, W / patch_size) grid, and every block's attention is exposed.

    Raises:
        ValueError: the image size is not a multiple of `patch_size`, `dim % heads != 0`,
            an unknown `stem`, or a conv stem with a `patch_size` that is not a power of 2.
    """
    height, width = input_shape[:2]
    if height % patch_size or width % patch_size:
        raise ValueError(
            f"Image size {height}x{width} is not a multiple of patch_size={patch_size}. "
            "Use patch 4 or 6 for 48x48 faces."
        )
    if dim % heads:
        raise ValueError(f"dim={dim} must be divisible by heads={heads}.")
    images = model_input(input_shape)
    x = _stem(images, stem, dim, patch_size, stem_widths, stem_depth)
    grid = (height // patch_size) * (width // patch_size)
    x = layers.Reshape((grid, dim), name="patch_tokens")(x)
    x = ClassToken(name="cls_token")(x)
    x = PositionEmbedding(name="pos_embed")(x)
    x = layers.Dropout(dropout, name="embed_drop")(x)
    for i in range(depth):
        x, _ = _block(x, dim, heads, mlp_dim, dropout, i)
    x = layers.LayerNormalization(epsilon=1e-6, name="final_ln")(x)
    cls = layers.Cropping1D((0, grid), name="cls_output")(x)  # (N, 1, dim)
    cls = layers.Flatten(name="cls_flat")(cls)
    logits = layers.Dense(num_classes, name="logits")(cls)
    probs = layers.Softmax(name="probs")(logits)
    return keras.Model(images, probs, name="vit")
