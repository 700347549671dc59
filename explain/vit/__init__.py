"""ViT attention maps: raw attention, rollout, gradient-weighted relevance.

The methods are registered in `emolens.explain.METHODS`; `find_attention_layers(model)` lists
the attention layers they read (qualified names, input first).
"""

from emolens.explain.vit._attention_model import find_attention_layers

__all__ = ["find_attention_layers"]
