"""Batched CAMs == the slow one-image-at-a-time references (tests/reference/cam.py), atol 1e-5."""

import keras
import numpy as np
import pytest

from emolens.explain import METHODS
from emolens.explain._maps import to_unit_range
from tests.reference import cam as reference

NAMES = list(reference.METHODS)


def pooled_cnn(input_shape=(16, 16, 3), num_classes=3) -> keras.Model:
    """Chain CNN with an 8x8 feature grid, so maps are upsampled to the image."""
    images = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(images)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", name="feat")(x)
    x = keras.layers.ReLU(name="feat_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(images, keras.layers.Softmax(name="probs")(logits), name="pooled_cnn")


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


@pytest.mark.parametrize("name", ["grad_cam", "score_cam", "ablation_cam"])
def test_top_class_default_and_an_earlier_layer_match_reference(name, model, images):
    maps = METHODS[name](model, images[:2], None, "conv1", batch_size=1)
    expected = reference.explain(name, model, images[:2], None, "conv1")
    np.testing.assert_allclose(maps, expected, atol=1e-5)


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
    fast = METHODS["score_cam"](model, images, 0, "feat_relu", top_k=8)
    np.testing.assert_allclose(fast, METHODS["score_cam"](model, images, 0, "feat_relu"), atol=1e-6)
