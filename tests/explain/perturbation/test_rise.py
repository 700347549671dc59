import keras
import numpy as np
import pytest

from emolens.explain.perturbation.rise import rise
from tests.toy_models import linear_pixel_model, tiny_cnn


def _images(n=2, shape=(24, 24, 1), seed=0):
    return 0.5 + 0.5 * np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def test_rise_correlates_with_the_summed_region():
    images = _images()
    weights = np.zeros((2, 24, 24, 1), np.float32)
    weights[0, 6:18, 6:18] = 0.3
    bias = np.array([-0.3 * 0.5 * images[0, 6:18, 6:18].sum(), 0.0], np.float32)  # p ~ 0.5
    maps = rise(linear_pixel_model(weights, bias), images, 0, n_masks=4000, cells=12)
    truth = np.zeros((24, 24))
    truth[6:18, 6:18] = 1
    for one in maps:
        assert np.corrcoef(one.ravel(), truth.ravel())[0, 1] > 0.9


def test_rise_batched_equals_one_by_one_and_is_seeded():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((10, 10, 1))
    images = _images(3, (10, 10, 1))
    batched = rise(model, images, [0, 1, 2], n_masks=50, cells=4, batch_size=8, seed=1)
    for i in range(3):
        single = rise(model, images[i : i + 1], i, n_masks=50, cells=4, batch_size=8, seed=1)
        np.testing.assert_allclose(batched[i], single[0], atol=1e-5)
    again = rise(model, images, [0, 1, 2], n_masks=50, cells=4, batch_size=8, seed=1)
    np.testing.assert_array_equal(batched, again)
    other = rise(model, images, [0, 1, 2], n_masks=50, cells=4, batch_size=8, seed=2)
    assert np.abs(other - batched).max() > 1e-3


def test_rise_rejects_bad_options():
    model = tiny_cnn((10, 10, 1))
    with pytest.raises(ValueError, match="keep=1.5"):
        rise(model, _images(1, (10, 10, 1)), keep=1.5)
