import keras
import numpy as np
import pytest
import tensorflow as tf

from emolens.explain.perturbation.rise import _masks, rise
from tests.toy_models import linear_pixel_model, tiny_cnn


def _images(n=2, shape=(24, 24, 1), seed=0):
    return 0.5 + 0.5 * np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def test_rise_correlates_with_the_summed_region():
    images = _images()
    weights = np.zeros((2, 24, 24, 1), np.float32)
    weights[0, 6:18, 6:18] = 0.3
    bias = np.array([-0.3 * 0.5 * images[0, 6:18, 6:18].sum(), 0.0], np.float32)  # p ~ 0.5
    model = linear_pixel_model(weights, bias)
    maps = rise(model, images, 0, n_masks=4000, cells=12, score="probability")
    truth = np.zeros((24, 24))
    truth[6:18, 6:18] = 1
    for one in maps:
        assert np.corrcoef(one.ravel(), truth.ravel())[0, 1] > 0.9


def _masks_numpy(n_masks, cells, keep, seed, size):
    """The masks RISE draws from `seed`, rebuilt through the same steps (m, H, W)."""
    cell = (-(-size // cells),) * 2
    rng = np.random.default_rng(seed)
    grids = (rng.random((n_masks, cells, cells)) < keep).astype(np.float32)
    shifts = np.stack([rng.integers(0, c, n_masks) for c in cell], axis=1).astype(np.int32)
    upsampled = tf.constant([(cells + 1) * cell[0]] * 2)
    return _masks(grids, shifts, tf.constant((size, size)), upsampled).numpy()


def test_rise_logit_score_is_the_covariance_of_the_linear_logit_and_the_masks():
    """Known answer: weights are sum_m (s_m - mean s) M_m / (n keep), s_m = w . (x * M_m) + b."""
    images = _images(2, (12, 12, 1))
    weights = np.random.default_rng(3).normal(size=(2, 12, 12, 1)).astype(np.float32)
    bias = np.array([5.0, -5.0], np.float32)  # a logit offset must not change the map
    masks = _masks_numpy(300, 4, 0.5, 7, 12).astype(np.float64)  # (m, H, W)
    logits = np.einsum("nhw,mhw->nm", (weights[0] * images)[..., 0], masks) + bias[0]
    centred = logits - logits.mean(axis=1, keepdims=True)
    expected = np.maximum(np.einsum("nm,mhw->nhw", centred, masks), 0)
    expected /= expected.max(axis=(1, 2), keepdims=True)
    kwargs = {"n_masks": 300, "cells": 4, "seed": 7}
    maps = rise(linear_pixel_model(weights, bias), images, 0, **kwargs)  # default: logit
    np.testing.assert_allclose(maps, expected, atol=1e-4)
    no_bias = rise(linear_pixel_model(weights), images, 0, **kwargs)
    np.testing.assert_allclose(no_bias, maps, atol=1e-4)
    probability = rise(linear_pixel_model(weights, bias), images, 0, score="probability", **kwargs)
    assert np.abs(probability - expected).max() > 0.1


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
    with pytest.raises(ValueError, match="rise score must be one of"):
        rise(tiny_cnn((10, 10, 1)), _images(1, (10, 10, 1)), score="softmax")
    model = tiny_cnn((10, 10, 1))
    with pytest.raises(ValueError, match="keep=1.5"):
        rise(model, _images(1, (10, 10, 1)), keep=1.5)


def test_masks_are_the_upsampled_grids_cropped_at_their_shifts():
    grids = (np.random.default_rng(0).random((3, 4, 4)) < 0.5).astype(np.float32)
    shifts = np.array([[0, 0], [2, 1], [1, 3]], np.int32)  # (row, col) of each crop's corner
    size, upsampled = (12, 12), (15, 15)  # cell 3 px, (cells + 1) cells upsampled
    masks = _masks(grids, shifts, tf.constant(size), tf.constant(upsampled)).numpy()
    smooth = tf.image.resize(grids[..., None], upsampled, method="bilinear").numpy()[..., 0]
    for mask, full, (dy, dx) in zip(masks, smooth, shifts, strict=True):
        np.testing.assert_array_equal(mask, full[dy : dy + 12, dx : dx + 12])
    assert np.abs(masks[1] - smooth[1, :12, :12]).max() > 0.1  # the shift is visible


def test_rise_defaults_to_each_images_top_class():
    images = _images(2, (10, 10, 1))
    weights = np.zeros((2, 10, 10, 1), np.float32)
    weights[0, :5], weights[1, 5:] = 1.0, 1.0  # class 0 reads the top half, class 1 the bottom
    bias = np.array([2.0, -2.0], np.float32)
    images[1, 5:] = 1.0  # image 1: dark top, bright bottom, so its top class is 1
    images[1, :5] = 0.0
    model = linear_pixel_model(weights, bias)
    assert np.argmax(model(images), axis=1).tolist() == [0, 1]
    kwargs = {"n_masks": 40, "cells": 4, "seed": 3}
    top = rise(model, images, None, **kwargs)
    np.testing.assert_array_equal(top, rise(model, images, [0, 1], **kwargs))
    assert np.abs(top[1] - rise(model, images, 0, **kwargs)[1]).max() > 0.1
