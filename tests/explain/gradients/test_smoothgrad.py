import keras
import numpy as np
import pytest

from emolens.explain.gradients.saliency import saliency
from emolens.explain.gradients.smoothgrad import smoothgrad
from tests.toy_models import linear_pixel_model, tiny_cnn


def _images(n=3, shape=(6, 6, 2), seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def test_smoothgrad_of_a_linear_model_equals_saliency():
    weights = np.random.default_rng(1).normal(size=(3, 6, 6, 2)).astype(np.float32)
    model = linear_pixel_model(weights)
    images = _images()
    np.testing.assert_allclose(
        smoothgrad(model, images, 1, n_samples=5), saliency(model, images, 1), atol=1e-5
    )


def test_smoothgrad_batched_equals_one_by_one_and_is_seeded():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((8, 8, 1))
    images = _images(4, (8, 8, 1))
    batched = smoothgrad(model, images, [0, 1, 2, 1], n_samples=6, batch_size=5, seed=3)
    for i, target in enumerate([0, 1, 2, 1]):
        single = smoothgrad(model, images[i : i + 1], target, n_samples=6, batch_size=4, seed=3)
        np.testing.assert_allclose(batched[i], single[0], atol=1e-5)
    again = smoothgrad(model, images, [0, 1, 2, 1], n_samples=6, batch_size=5, seed=3)
    np.testing.assert_array_equal(batched, again)
    other = smoothgrad(model, images, [0, 1, 2, 1], n_samples=6, batch_size=5, seed=4)
    assert np.abs(other - batched).max() > 1e-3


def test_smoothgrad_noise_changes_the_map_of_a_nonlinear_model():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((8, 8, 1))
    images = _images(2, (8, 8, 1))
    smooth = smoothgrad(model, images, 0, n_samples=8, noise_level=0.3)
    assert np.abs(smooth - saliency(model, images, 0)).max() > 1e-2
    zero_noise = smoothgrad(model, images, 0, n_samples=3, noise_level=0.0)
    np.testing.assert_allclose(zero_noise, saliency(model, images, 0), atol=1e-5)


def test_smoothgrad_rejects_bad_options():
    model = linear_pixel_model(np.ones((2, 4, 4, 1), np.float32))
    images = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="n_samples >= 1"):
        smoothgrad(model, images, n_samples=0)
    with pytest.raises(ValueError, match="noise_level=-0.1"):
        smoothgrad(model, images, noise_level=-0.1)
