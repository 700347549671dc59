import keras
import numpy as np
import pytest
from scipy.stats import spearmanr
from skimage.metrics import structural_similarity

from emolens import explain
from emolens.explain.metrics import model_randomisation, random_logit, randomisable_layers
from emolens.explain.metrics._similarity import spearman, ssim
from tests.toy_models import linear_pixel_model, tiny_cnn


def _ramp_model():
    """Two classes: class 0 weighs pixel p by p + 1, class 1 by 144 - p (reversed)."""
    ramp = np.arange(1, 145, dtype=np.float32).reshape(12, 12, 1) / 144
    return linear_pixel_model(np.stack([ramp, ramp[::-1, ::-1]]))


def _images(n=4, shape=(12, 12, 1), seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def test_spearman_matches_scipy_and_ssim_matches_scikit_image():
    rng = np.random.default_rng(0)
    maps, others = rng.random((5, 9, 9)), rng.random((5, 9, 9))
    others[0] = maps[0] ** 2 + 0.1 * rng.random((9, 9))  # correlated
    maps[1, :4] = 0.5  # ties: average ranks
    expected = [
        spearmanr(a.ravel(), b.ravel()).statistic for a, b in zip(maps, others, strict=True)
    ]
    np.testing.assert_allclose(spearman(maps, others), expected, atol=1e-6)
    expected = [
        structural_similarity(a, b, data_range=1.0) for a, b in zip(maps, others, strict=True)
    ]
    np.testing.assert_allclose(ssim(maps, others), expected, atol=1e-6)


def test_flat_maps_have_no_ranking():
    flat, other = np.zeros((1, 8, 8)), np.random.default_rng(0).random((1, 8, 8))
    np.testing.assert_array_equal(spearman(flat, other), 0.0)
    np.testing.assert_array_equal(spearman(flat, flat), 1.0)


def test_layers_are_randomised_top_down():
    keras.utils.set_random_seed(0)
    assert randomisable_layers(tiny_cnn()) == ["logits", "feat", "conv1"]


def test_randomising_a_linear_model_decorrelates_its_saliency_and_the_same_model_stays_at_one():
    """Saliency of a linear model is |weights|: a ramp, then a fresh Glorot draw."""
    model, images = _ramp_model(), _images()
    before = [w.copy() for w in model.get_weights()]
    result = model_randomisation(model, images, "saliency", 0)
    assert result.layers == ("logits",) and result.spearman.shape == (1, 4)
    assert (np.abs(result.spearman) < 0.3).all() and (result.ssim < 0.3).all()
    same = explain.saliency(model, images, 0)
    np.testing.assert_allclose(spearman(result.original, same), 1.0, atol=1e-6)
    np.testing.assert_allclose(ssim(result.original, same), 1.0, atol=1e-6)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # the model passed in is untouched


def test_cascading_randomisation_decorrelates_grad_cam_layer_by_layer():
    keras.utils.set_random_seed(0)
    model, images = tiny_cnn((12, 12, 1)), _images(n=6)
    result = model_randomisation(model, images, "grad_cam", None, "conv1", keep_maps=True, seed=1)
    assert result.layers == ("logits", "feat", "conv1")
    assert result.spearman.shape == result.ssim.shape == (3, 6)
    assert result.maps.shape == (3, 6, 12, 12)
    assert result.spearman[-1].mean() < 0.5  # fully random: little rank agreement left
    again = model_randomisation(model, images, "grad_cam", None, "conv1", seed=1)
    np.testing.assert_array_equal(result.spearman, again.spearman)  # seeded


def test_random_logit_of_a_reversed_ramp_is_anticorrelated():
    model, images = _ramp_model(), _images()
    result = random_logit(model, images, "saliency", 0)
    np.testing.assert_array_equal(result.others, 1)  # two classes: the other one
    np.testing.assert_allclose(result.spearman, -1.0, atol=1e-6)
    assert result.ssim.shape == (4,)


def test_random_logit_never_draws_the_target():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((12, 12, 1), num_classes=3)
    result = random_logit(model, _images(n=12), explain.grad_cam, [0, 1, 2] * 4, seed=5)
    assert (result.others != result.targets).all()
    assert set(result.others.tolist()) == {0, 1, 2}


def test_sanity_errors():
    model = _ramp_model()
    with pytest.raises(ValueError, match="unknown method 'gradcam'.*grad_cam"):
        random_logit(model, _images(), "gradcam")
    with pytest.raises(ValueError, match="layer 'nope' is not in model.*logits"):
        model_randomisation(model, _images(), "saliency", layers=["nope"])
