import keras
import numpy as np
import pytest

from emolens.explain.gradients.integrated_gradients import (
    integrated_gradients,
    integrated_gradients_attributions,
)
from emolens.explain.gradients.saliency import saliency
from tests.toy_models import linear_pixel_model, tiny_cnn, two_half_images, two_half_model


def _images(n=3, shape=(6, 6, 2), seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def _logits(model, images):
    return keras.Model(model.inputs, model.get_layer("logits").output)(images).numpy()


def test_ig_of_a_linear_model_with_black_baseline_is_abs_w_times_x():
    weights = np.random.default_rng(1).normal(size=(3, 6, 6, 2)).astype(np.float32)
    model = linear_pixel_model(weights)
    images = _images()
    maps = integrated_gradients(model, images, [2, 0, 1], steps=4)
    expected = np.abs((weights[[2, 0, 1]] * images).sum(axis=-1))
    expected /= expected.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(maps, expected, atol=1e-5)


@pytest.mark.parametrize("baseline", ["black", "blur", "gray"])
def test_ig_completeness_on_a_cnn(baseline):
    keras.utils.set_random_seed(0)
    model = tiny_cnn((8, 8, 1))
    images = _images(3, (8, 8, 1))
    starts = {"black": np.zeros_like(images), "gray": np.full((8, 8, 1), 0.5, np.float32)}
    base = "blur" if baseline == "blur" else starts[baseline]
    attributions = integrated_gradients_attributions(
        model, images, [0, 1, 2], baseline=base, steps=256
    )
    if baseline == "blur":
        import cv2

        base = np.stack([cv2.GaussianBlur(im, (0, 0), 4.0)[..., None] for im in images])
    gaps = _logits(model, images) - _logits(model, np.broadcast_to(base, images.shape))
    np.testing.assert_allclose(
        attributions.sum(axis=(1, 2, 3)), gaps[np.arange(3), [0, 1, 2]], atol=1e-3
    )


def test_ig_batched_equals_one_by_one():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((8, 8, 1))
    images = _images(4, (8, 8, 1))
    batched = integrated_gradients(model, images, steps=7, batch_size=5)
    for i in range(4):
        single = integrated_gradients(model, images[i : i + 1], steps=7, batch_size=3)
        np.testing.assert_allclose(batched[i], single[0], atol=1e-5)


def test_ig_differs_from_saliency_on_a_cnn_and_is_unit_range():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((8, 8, 1))
    maps = integrated_gradients(model, _images(2, (8, 8, 1)), steps=8)
    assert maps.dtype == np.float32 and maps.shape == (2, 8, 8)
    np.testing.assert_allclose(maps.max(axis=(1, 2)), 1.0)
    assert np.abs(maps - saliency(model, _images(2, (8, 8, 1)))).max() > 1e-2


def test_ig_errors():
    model = linear_pixel_model(np.ones((2, 4, 4, 1), np.float32))
    images = np.zeros((2, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="Unknown baseline 'white'"):
        integrated_gradients(model, images, baseline="white")
    with pytest.raises(ValueError, match=r"Baseline array has shape \(3, 3, 1\)"):
        integrated_gradients(model, images, baseline=np.zeros((3, 3, 1)))
    with pytest.raises(ValueError, match="steps >= 2"):
        integrated_gradients(model, images, steps=1)


def test_ig_defaults_to_each_images_top_class():
    model, images = two_half_model(), two_half_images()
    assert np.argmax(model(images), axis=1).tolist() == [0, 1]
    expected = images[..., 0].copy()  # linear model, black baseline: |w_top * x|, max 1
    expected[0, 4:], expected[1, :4] = 0.0, 0.0
    expected /= expected.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(integrated_gradients(model, images, steps=4), expected, atol=1e-5)
