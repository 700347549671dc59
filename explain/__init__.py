"""emolens explain: why a facial-emotion classifier predicted what it did.

Every method in `METHODS` has one signature:
`method(model, images (N,H,W,C) float32 [0,1], targets=None, layer=None, **options)
-> (N,H,W) float32 [0,1]`.
"""

from explain.labels import CLASS_SETS, EMO3, FER7, class_index, class_names
from explain.types import Explainer, Images, Maps, Targets

METHODS: dict[str, Explainer] = {}

__all__ = [
    "CLASS_SETS",
    "EMO3",
    "FER7",
    "METHODS",
    "Explainer",
    "Images",
    "Maps",
    "Targets",
    "class_index",
    "class_names",
]
