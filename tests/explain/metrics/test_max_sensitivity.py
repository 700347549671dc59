import numpy as np
import pytest

from emolens.explain.metrics import max_sensitivity
from tests.explain.metrics.test_sanity import _images, _ramp_model


def _constant(model, images, targets=None, layer=None):
    return np.ones(images.shape[:3], np.float32)


def _image_itself(model, images, targets=None, layer=None):
    return images[..., 0]


def test_a_constant_map_and_the_saliency_of_a_linear_model_do_not_move():
    model, images = _ramp_model(), _images()
    np.testing.assert_array_equal(max_sensitivity(model, images, _constant), 0.0)
    np.testing.assert_allclose(max_sensitivity(model, images, "saliency", 0), 0.0, atol=1e-6)


def test_a_map_equal_to_the_image_moves_by_the_largest_noise_draw():
    model, images = _ramp_model(), _images()
    result = max_sensitivity(model, images, _image_itself, radius=0.05, samples=4, seed=7)
    noise = np.random.default_rng(7).uniform(-0.05, 0.05, (4, *images.shape))
    moved = np.clip(images[None] + noise, 0, 1) - images[None]
    expected = np.sqrt((moved**2).sum(axis=(2, 3, 4))).max(axis=0)
    np.testing.assert_allclose(result, expected, rtol=1e-5)
    assert (result <= 0.05 * 12).all()  # radius * sqrt(H * W)


def test_max_sensitivity_errors():
    model, images = _ramp_model(), _images()
    with pytest.raises(ValueError, match="samples must be an int >= 1; got 0"):
        max_sensitivity(model, images, _constant, samples=0)
    with pytest.raises(ValueError, match="radius must be >= 0"):
        max_sensitivity(model, images, _constant, radius=-0.1)
