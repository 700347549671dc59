import keras
import numpy as np
import pytest

from emolens import explain
from emolens.explain import metrics
from tests.toy_models import tiny_cnn

FAITHFULNESS = ["deletion_auc", "insertion_auc", "road"]
LOCALISATION = ["pointing_game", "relevance_mass", "top_k_iou"]
CHECKS = ["model_randomisation", "random_logit", "max_sensitivity"]


def test_registry_lists_every_metric_once_and_is_reachable_as_explain_metrics():
    assert sorted(metrics.METRICS) == sorted(FAITHFULNESS + LOCALISATION + CHECKS)
    assert explain.metrics.METRICS is metrics.METRICS
    for name, metric in metrics.METRICS.items():
        assert metric.__name__ == name and getattr(metrics, name) is metric
        assert "Returns:" in metric.__doc__ or "Same arguments" in metric.__doc__


@pytest.mark.parametrize("name", FAITHFULNESS)
@pytest.mark.parametrize("score", ["logit", "probability"])
def test_faithfulness_metrics_give_one_finite_number_per_image(name, score):
    keras.utils.set_random_seed(0)
    model = tiny_cnn((12, 12, 1), num_classes=3)
    images = np.random.default_rng(0).random((5, 12, 12, 1), dtype=np.float32)
    maps = explain.grad_cam(model, images, None, "conv1")
    values = metrics.METRICS[name](model, images, maps, score=score)
    assert values.shape == (5,) and values.dtype == np.float32 and np.isfinite(values).all()
    if score == "probability" and name != "road":
        assert ((values >= 0) & (values <= 1)).all()  # area under a probability curve on [0, 1]


@pytest.mark.parametrize("name", LOCALISATION)
def test_localisation_metrics_are_in_unit_range(name):
    rng = np.random.default_rng(0)
    maps = rng.random((6, 12, 12)).astype(np.float32)
    masks = rng.random((6, 12, 12)) < 0.3
    values = metrics.METRICS[name](maps, masks)
    assert values.shape == (6,) and values.dtype == np.float32
    assert ((values >= 0) & (values <= 1)).all()
