"""emolens explain.metrics: can this map be trusted? Numbers per map, numpy in and out.

Three call forms, one registry (`METRICS`, a plain dict like `explain.METHODS`):

- faithfulness, scored by the model:
  `metric(model, images (N,H,W,C), maps (N,H,W), targets=None, *, score="logit", ...) -> (N,)`
  (deletion_auc, insertion_auc, road; the curves are `deletion_curve`, `insertion_curve`,
  `road_curve`);
- localisation against a mask: `metric(maps (N,H,W), masks (N,H,W) bool, ...) -> (N,)`
  (pointing_game, relevance_mass, top_k_iou);
- checks that re-run an explainer (a name in `explain.METHODS` or a callable):
  `metric(model, images, method, targets=None, layer=None, ...)` (model_randomisation ->
  Randomisation, random_logit -> RandomLogit, max_sensitivity -> (N,)).
"""

from collections.abc import Callable

from emolens.explain.metrics.deletion import deletion_auc, deletion_curve
from emolens.explain.metrics.insertion import insertion_auc, insertion_curve
from emolens.explain.metrics.max_sensitivity import max_sensitivity
from emolens.explain.metrics.model_randomisation import (
    Randomisation,
    model_randomisation,
    randomisable_layers,
)
from emolens.explain.metrics.pointing_game import pointing_game
from emolens.explain.metrics.random_logit import RandomLogit, random_logit
from emolens.explain.metrics.relevance_mass import relevance_mass
from emolens.explain.metrics.road import road, road_curve
from emolens.explain.metrics.top_k_iou import top_k_iou

METRICS: dict[str, Callable] = {
    # faithfulness: (model, images, maps, targets) -> (N,)
    "deletion_auc": deletion_auc,
    "insertion_auc": insertion_auc,
    "road": road,
    # localisation: (maps, masks) -> (N,)
    "pointing_game": pointing_game,
    "relevance_mass": relevance_mass,
    "top_k_iou": top_k_iou,
    # explainer checks: (model, images, method, targets, layer)
    "model_randomisation": model_randomisation,
    "random_logit": random_logit,
    "max_sensitivity": max_sensitivity,
}

__all__ = [
    "METRICS",
    "RandomLogit",
    "Randomisation",
    "deletion_auc",
    "deletion_curve",
    "insertion_auc",
    "insertion_curve",
    "max_sensitivity",
    "model_randomisation",
    "pointing_game",
    "random_logit",
    "randomisable_layers",
    "relevance_mass",
    "road",
    "road_curve",
    "top_k_iou",
]
