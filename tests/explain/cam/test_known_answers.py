"""Closed-form answers on the linear probe: feat = (+x, -x), GAP, identity Dense.

Class 0's logit is mean(x), class 1's is -mean(x). Every CAM variant must return the image
(scaled to max 1) for class 0 and zeros for class 1; Eigen-CAM is class-agnostic (the image).
"""

import keras
import numpy as np
import pytest

from emolens.explain import METHODS
from tests.toy_models import linear_probe_model, nested_linear_probe_model

CLASS_SPECIFIC = [
    "grad_cam",
    "grad_cam_pp",
    "hires_cam",
    "xgrad_cam",
    "layer_cam",
    "score_cam",
    "ablation_cam",
    "multi_layer_cam",
]


@pytest.fixture(scope="module")
def probe():
    keras.utils.set_random_seed(0)
    return linear_probe_model((8, 8, 1))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)


def _normalised(images):
    return images[..., 0] / images[..., 0].max(axis=(1, 2), keepdims=True)


@pytest.mark.parametrize("name", CLASS_SPECIFIC)
def test_class_0_recovers_the_image_and_class_1_is_zero(name, probe, images):
    method = METHODS[name]
    np.testing.assert_allclose(method(probe, images, 0, "feat"), _normalised(images), atol=1e-5)
    np.testing.assert_array_equal(method(probe, images, 1, "feat"), 0.0)


def test_eigen_cam_is_the_image_for_any_class(probe, images):
    for target in (0, 1):
        maps = METHODS["eigen_cam"](probe, images, target, "feat")
        np.testing.assert_allclose(maps, _normalised(images), atol=1e-5)


def test_score_cam_weights_are_sigmoid_of_twice_the_masked_mean(probe, images):
    # p0(x * m) = softmax([mean(x m), -mean(x m)])[0] = sigmoid(2 mean(x m)); map = sum_k w_k A_k.
    # The 8x8 channels need no upsampling; min-max scaled, +x gives (x - min) / span and -x
    # gives (max - x) / span.
    from emolens.explain.cam.score_cam import score_weights

    x = images[..., 0].astype(np.float64)  # (N,8,8)
    low, high = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    masks = np.stack([(x - low) / (high - low), (high - x) / (high - low)], axis=1)  # (N,2,8,8)
    masked_means = (x[:, None] * masks).mean(axis=(2, 3))  # (N,2)
    expected = 1.0 / (1.0 + np.exp(-2.0 * masked_means))
    acts = np.concatenate([images, -images], axis=-1)  # (N,8,8,2)
    weights = score_weights(probe, images, acts, np.zeros(4, np.int32), None, 3)
    np.testing.assert_allclose(weights, expected, atol=1e-6)


def test_ablation_cam_weights_one_hot_on_the_channel_that_carries_the_class(probe, images):
    # Zeroing +x removes logit 0 entirely: w = (y - 0) / y = 1; zeroing -x leaves it: w = 0.
    maps = METHODS["ablation_cam"](probe, images, 0, "feat")
    np.testing.assert_allclose(maps, _normalised(images), atol=1e-5)


@pytest.mark.parametrize("name", ["grad_cam", "layer_cam", "score_cam", "ablation_cam"])
def test_layer_inside_a_nested_model_gives_the_same_answer(name, images):
    keras.utils.set_random_seed(0)
    nested = nested_linear_probe_model((8, 8, 1))
    maps = METHODS[name](nested, images, 0, "backbone/feat")
    np.testing.assert_allclose(maps, _normalised(images), atol=1e-5)
    np.testing.assert_array_equal(METHODS[name](nested, images, 1, "feat"), 0.0)
