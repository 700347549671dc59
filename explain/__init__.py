"""emolens explain: why a facial-emotion classifier predicted what it did.

Every method in `METHODS` has one signature:
`method(model, images (N,H,W,C) float32 [0,1], targets=None, layer=None, **options)
-> (N,H,W) float32 [0,1]`.
"""

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

METHODS: dict[str, Explainer] = {
    # CAM family (explain/cam/)
    "grad_cam": grad_cam,
    "grad_cam_pp": grad_cam_pp,
    "hires_cam": hires_cam,
    "xgrad_cam": xgrad_cam,
    "layer_cam": layer_cam,
    "eigen_cam": eigen_cam,
    "score_cam": score_cam,
    "ablation_cam": ablation_cam,
    "multi_layer_cam": multi_layer_cam,
    # ViT attention (explain/vit/)
    "attention_map": attention_map,
    "attention_rollout": attention_rollout,
    "attention_relevance": attention_relevance,
    # gradients (explain/gradients/) and perturbation (explain/perturbation/)
    "saliency": saliency,
    "smoothgrad": smoothgrad,
    "integrated_gradients": integrated_gradients,
    "guided_grad_cam": guided_grad_cam,
    "occlusion": occlusion,
    "rise": rise,
}

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
