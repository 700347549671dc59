"""Batched CAMs == the slow one-image-at-a-time references (tests/reference/cam.py), atol 1e-5."""

import keras
import numpy as np
import pytest

from emolens.explain import METHODS
from emolens.explain._maps import to_unit_range
from tests.reference import cam as reference
from tests.toy_models import pooled_cnn

NAMES = list(reference.METHODS)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return pooled_cnn()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).random((3, 16, 16, 3), dtype=np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_batched_equals_reference_and_per_image_runs(name, model, images):
    targets = np.array([0, 2, 1])
    maps = METHODS[name](model, images, targets, "feat_relu", batch_size=2)
    expected = reference.explain(name, model, images, targets, "feat_relu")
    np.testing.assert_allclose(maps, expected, atol=1e-5)
    one_by_one = np.concatenate(
        [METHODS[name](model, images[i : i + 1], int(targets[i]), "feat_relu") for i in range(3)]
    )
    np.testing.assert_allclose(maps, one_by_one, atol=1e-5)


EARLIER_LAYER = [
    "grad_cam", "grad_cam_pp", "xgrad_cam", "layer_cam", "hires_cam", "score_cam", "ablation_cam"
]  # fmt: skip


@pytest.mark.parametrize("name", EARLIER_LAYER)
def test_top_class_default_and_an_earlier_layer_match_reference(name, model, images):
    # conv1 sits before max pooling and a conv: its gradients differ from position to
    # position, so the Grad-CAM++ alphas, X-Grad-CAM's weighting and the positive-gradient
    # maps differ from Grad-CAM's mean here (on feat_relu, next to GAP, they coincide)
    maps = METHODS[name](model, images[:2], None, "conv1", batch_size=1)
    expected = reference.explain(name, model, images[:2], None, "conv1")
    np.testing.assert_allclose(maps, expected, atol=1e-5)
    if name != "grad_cam":
        grad_cam = reference.explain("grad_cam", model, images[:2], None, "conv1")
        assert np.abs(expected - grad_cam).max() > 0.05, f"{name} is Grad-CAM on this layer"


def test_multi_layer_cam_is_the_mean_of_per_layer_layer_cams(model, images):
    maps = METHODS["multi_layer_cam"](model, images, 1, layers=["conv1", "feat_relu"])
    per_layer = [
        reference.explain("layer_cam", model, images, [1] * 3, n) for n in ("conv1", "feat_relu")
    ]
    np.testing.assert_allclose(maps, to_unit_range(np.mean(per_layer, axis=0)), atol=1e-5)
    fused_max = METHODS["multi_layer_cam"](
        model, images, 1, layers=["conv1", "feat_relu"], fuse="max"
    )
    np.testing.assert_allclose(fused_max, to_unit_range(np.max(per_layer, axis=0)), atol=1e-5)


def test_score_cam_top_k_keeps_the_channels_of_largest_spread(model, images):
    from emolens.explain.cam.score_cam import live_pairs

    acts = np.zeros((1, 2, 2, 3), np.float32)
    acts[0, 0, 0] = [1.0, 5.0, 2.0]  # std per channel grows with the peak
    assert live_pairs(acts, 2).tolist() == [[0, 1], [0, 2]]
    assert live_pairs(acts, None).tolist() == [[0, 0], [0, 1], [0, 2]]
    # feat_relu has 8 channels: top_k=3 scores only the 3 of largest spread in each image
    fast = METHODS["score_cam"](model, images, 0, "feat_relu", top_k=3)
    pruned = [reference.score_cam(model, image, 0, "feat_relu", top_k=3) for image in images]
    np.testing.assert_allclose(fast, np.stack(pruned), atol=1e-5)
    assert np.abs(fast - METHODS["score_cam"](model, images, 0, "feat_relu")).max() > 1e-2
