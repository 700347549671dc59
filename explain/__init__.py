"""emolens explain: why a facial-emotion classifier predicted what it did.

Every method in `METHODS` has one signature:
`method(model, images (N,H,W,C) float32 [0,1], targets=None, layer=None, **options)
-> (N,H,W) float32 [0,1]`.

Importing `emolens.explain` is light: each public name loads its module (TensorFlow with it)
on first use, so `emolens.explain.data` and the training path also run where Keras has only
its JAX backend (a GPU machine without TensorFlow), and `import emolens.explain` is fast.
"""

from __future__ import annotations

# Underscored: `emolens.explain.types` (a submodule) would rebind a plain `types` here.
import importlib as _importlib
import sys as _sys
import types as _types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from emolens.explain import metrics  # explain.metrics: scores of the maps
    from emolens.explain.activation_max import activation_maximization
    from emolens.explain.cam.ablation_cam import ablation_cam
    from emolens.explain.cam.eigen_cam import eigen_cam
    from emolens.explain.cam.grad_cam import grad_cam
    from emolens.explain.cam.grad_cam_pp import grad_cam_pp
    from emolens.explain.cam.hires_cam import hires_cam
    from emolens.explain.cam.layer_cam import layer_cam
    from emolens.explain.cam.multi_layer_cam import multi_layer_cam
    from emolens.explain.cam.score_cam import score_cam
    from emolens.explain.cam.xgrad_cam import xgrad_cam
    from emolens.explain.compare import Comparison, compare, plot_comparison
    from emolens.explain.data.labels import CLASS_SETS, EMO3, FER7, class_index, class_names
    from emolens.explain.faces import decode_image, detect_faces, prepare_faces
    from emolens.explain.feature_maps import feature_maps, plot_feature_maps, top_channels
    from emolens.explain.figures import plot_contours, plot_grid
    from emolens.explain.gradients.guided_grad_cam import guided_grad_cam
    from emolens.explain.gradients.integrated_gradients import integrated_gradients
    from emolens.explain.gradients.saliency import saliency
    from emolens.explain.gradients.smoothgrad import smoothgrad
    from emolens.explain.layer_summary import layer_summary
    from emolens.explain.overlay import overlay
    from emolens.explain.perturbation.occlusion import occlusion
    from emolens.explain.perturbation.rise import rise
    from emolens.explain.types import Explainer, Images, Maps, Targets
    from emolens.explain.vit.attention import attention_map
    from emolens.explain.vit.relevance import attention_relevance
    from emolens.explain.vit.rollout import attention_rollout

_MODULE_OF = {
    "activation_maximization": "emolens.explain.activation_max",
    "ablation_cam": "emolens.explain.cam.ablation_cam",
    "eigen_cam": "emolens.explain.cam.eigen_cam",
    "grad_cam": "emolens.explain.cam.grad_cam",
    "grad_cam_pp": "emolens.explain.cam.grad_cam_pp",
    "hires_cam": "emolens.explain.cam.hires_cam",
    "layer_cam": "emolens.explain.cam.layer_cam",
    "multi_layer_cam": "emolens.explain.cam.multi_layer_cam",
    "score_cam": "emolens.explain.cam.score_cam",
    "xgrad_cam": "emolens.explain.cam.xgrad_cam",
    "Comparison": "emolens.explain.compare",
    "compare": "emolens.explain.compare",
    "plot_comparison": "emolens.explain.compare",
    "CLASS_SETS": "emolens.explain.data.labels",
    "EMO3": "emolens.explain.data.labels",
    "FER7": "emolens.explain.data.labels",
    "class_index": "emolens.explain.data.labels",
    "class_names": "emolens.explain.data.labels",
    "decode_image": "emolens.explain.faces",
    "detect_faces": "emolens.explain.faces",
    "prepare_faces": "emolens.explain.faces",
    "feature_maps": "emolens.explain.feature_maps",
    "plot_feature_maps": "emolens.explain.feature_maps",
    "top_channels": "emolens.explain.feature_maps",
    "plot_contours": "emolens.explain.figures",
    "plot_grid": "emolens.explain.figures",
    "guided_grad_cam": "emolens.explain.gradients.guided_grad_cam",
    "integrated_gradients": "emolens.explain.gradients.integrated_gradients",
    "saliency": "emolens.explain.gradients.saliency",
    "smoothgrad": "emolens.explain.gradients.smoothgrad",
    "layer_summary": "emolens.explain.layer_summary",
    "overlay": "emolens.explain.overlay",
    "occlusion": "emolens.explain.perturbation.occlusion",
    "rise": "emolens.explain.perturbation.rise",
    "Explainer": "emolens.explain.types",
    "Images": "emolens.explain.types",
    "Maps": "emolens.explain.types",
    "Targets": "emolens.explain.types",
    "attention_map": "emolens.explain.vit.attention",
    "attention_relevance": "emolens.explain.vit.relevance",
    "attention_rollout": "emolens.explain.vit.rollout",
}

# explain.METHODS: every explainer by name, in this order (the dashboard lists them so).
_METHOD_NAMES = (
    "grad_cam",
    "grad_cam_pp",
    "hires_cam",
    "xgrad_cam",
    "layer_cam",
    "eigen_cam",
    "score_cam",
    "ablation_cam",
    "multi_layer_cam",
    "attention_map",
    "attention_rollout",
    "attention_relevance",
    "saliency",
    "smoothgrad",
    "integrated_gradients",
    "guided_grad_cam",
    "occlusion",
    "rise",
)


class _Explain(_types.ModuleType):
    """This package's module type: a submodule binds its public function, not itself.

    Importing explain/compare.py (overlay.py, feature_maps.py, layer_summary.py) sets
    `explain.compare` to the submodule; the function of that name is what users call.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, _types.ModuleType) and value.__name__ == _MODULE_OF.get(name):
            value = getattr(value, name)
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Explain


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use and keep the name here (PEP 562)."""
    if name == "metrics":
        value = _importlib.import_module("emolens.explain.metrics")
    elif name == "METHODS":
        value = {method: __getattr__(method) for method in _METHOD_NAMES}
    elif name in _MODULE_OF:
        value = getattr(_importlib.import_module(_MODULE_OF[name]), name)
    else:
        raise AttributeError(f"module 'emolens.explain' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "metrics",
    "CLASS_SETS",
    "EMO3",
    "FER7",
    "METHODS",
    "Explainer",
    "Images",
    "Maps",
    "Targets",
    "Comparison",
    "activation_maximization",
    "compare",
    "feature_maps",
    "layer_summary",
    "plot_comparison",
    "plot_feature_maps",
    "top_channels",
    "ablation_cam",
    "attention_map",
    "attention_relevance",
    "attention_rollout",
    "eigen_cam",
    "grad_cam",
    "grad_cam_pp",
    "hires_cam",
    "layer_cam",
    "multi_layer_cam",
    "score_cam",
    "xgrad_cam",
    "class_index",
    "guided_grad_cam",
    "integrated_gradients",
    "occlusion",
    "overlay",
    "plot_contours",
    "plot_grid",
    "rise",
    "saliency",
    "smoothgrad",
    "class_names",
    "decode_image",
    "detect_faces",
    "prepare_faces",
]
