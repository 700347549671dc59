"""Caches behind the CAMs: weakly keyed by model, one compiled step per shape, correct results."""

import gc
import weakref

import keras
import numpy as np
import pytest
import tensorflow as tf

from emolens.explain import grad_cam, score_cam
from emolens.explain._layers import resolve_layer
from emolens.explain._maps import resize_maps, to_unit_range, unit_maps_graph
from emolens.explain.cam import _gradient
from tests.toy_models import tiny_cnn


def test_caches_do_not_keep_a_deleted_model_alive():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((12, 12, 1))
    images = np.random.default_rng(0).random((2, 12, 12, 1), dtype=np.float32)
    grad_cam(model, images, 0, "feat_relu")
    score_cam(model, images, 0, None, top_k=2)
    assert model in _gradient._STEPS
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None


def test_one_compiled_step_serves_every_batch_size():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((12, 12, 1))
    images = np.random.default_rng(0).random((5, 12, 12, 1), dtype=np.float32)
    whole = grad_cam(model, images, 1, "feat_relu", batch_size=5)
    split = grad_cam(model, images, 1, "feat_relu", batch_size=2)  # batches of 2, 2, 1
    np.testing.assert_allclose(split, whole, atol=1e-6)
    assert len(_gradient._STEPS[model]) == 1
    grad_cam(model, images, 1, "conv1")  # another layer: another sub-model, another step
    assert len(_gradient._STEPS[model]) == 2


def test_resolved_default_layer_follows_a_sequential_that_changes():
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="a"), keras.layers.Conv2D(3, 3)]
    )
    assert resolve_layer(model, None) == model.layers[-1].name
    model.pop()
    assert resolve_layer(model, None) == "a"
    model.add(keras.layers.Conv2D(4, 3, name="c"))
    assert resolve_layer(model, None) == "c"
    with pytest.raises(ValueError, match="'b' is not in model"):
        resolve_layer(model, "b")


@pytest.mark.parametrize("size", [(6, 6), (16, 12)])
def test_in_graph_unit_maps_match_the_numpy_path(size):
    maps = np.random.default_rng(3).normal(size=(4, 6, 6)).astype(np.float32)
    maps[1] = -np.abs(maps[1])  # all negative: zeros after ReLU, never NaN
    maps[2] = 0.0
    expected = to_unit_range(resize_maps(np.maximum(maps, 0.0), size))
    actual = tf.function(lambda m: unit_maps_graph(m, size))(tf.constant(maps)).numpy()
    np.testing.assert_allclose(actual, expected, atol=1e-6)
    np.testing.assert_array_equal(actual[1:3], 0.0)
    assert actual.shape == (4, *size)
