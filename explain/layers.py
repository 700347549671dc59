"""Layer lookup by name and by kind of output, for pickers in apps and notebooks.

    spatial_layers(model)     layers with (N, h, w, K) output: what CAM methods explain
    token_layers(model)       a ViT's (N, T, D) token layers on its patch grid
    find_layer(model, name)   (qualified name, layer) by plain or 'outer/inner' name

Nested models are searched too; their layers are named 'outer/inner'.
"""

from emolens.explain._layers import find_layer, spatial_layers, token_layers

__all__ = ["find_layer", "spatial_layers", "token_layers"]
