import math

import keras
import numpy as np
import pytest

from emolens.explain.gradients.saliency import saliency
from emolens.explain.gradients.smoothgrad import smoothgrad
from tests.toy_models import linear_pixel_model, tiny_cnn, two_half_images, two_half_model


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


def _threshold_model(shape, threshold):
    """Class 0's logit = sum relu(x - threshold): its input gradient is 1 where x > threshold."""
    images = keras.Input(shape=shape, name="image")
    above = keras.layers.Conv2D(1, 1, activation="relu", name="above")(images)
    logits = keras.layers.Dense(2, name="logits")(keras.layers.Flatten(name="flat")(above))
    model = keras.Model(images, keras.layers.Softmax(name="probs")(logits))
    model.get_layer("above").set_weights(
        [np.ones((1, 1, 1, 1), np.float32), np.array([-threshold])]
    )
    kernel = np.zeros((int(np.prod(shape)), 2), np.float32)
    kernel[:, 0] = 1.0
    model.get_layer("logits").set_weights([kernel, np.zeros(2, np.float32)])
    return model


def test_smoothgrad_noise_sd_is_noise_level_times_each_images_value_range():
    # The gradient is the step 1{x + noise > 0.5}, so SmoothGrad averages it to
    # P(x + sd * z > 0.5) = Phi((x - 0.5) / sd), with sd = noise_level * (max - min) of the image.
    model = _threshold_model((6, 6, 1), 0.5)
    images = np.stack(
        [np.linspace(0.3, 0.7, 36).reshape(6, 6, 1), np.linspace(0.2, 1.0, 36).reshape(6, 6, 1)]
    ).astype(np.float32)  # value ranges 0.4 and 0.8
    maps = smoothgrad(model, images, 0, n_samples=4000, noise_level=0.15, seed=0)
    for image, got in zip(images[..., 0], maps, strict=True):
        z = (image - 0.5) / (0.15 * np.ptp(image))
        expected = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))  # Phi(z)
        np.testing.assert_allclose(got, expected / expected.max(), atol=0.05)


def test_smoothgrad_defaults_to_each_images_top_class():
    model, images = two_half_model(), two_half_images()
    assert np.argmax(model(images), axis=1).tolist() == [0, 1]
    expected = np.zeros((2, 8, 8), np.float32)
    expected[0, :4], expected[1, 4:] = 1.0, 1.0  # linear model: |w_top| scaled to max 1
    np.testing.assert_allclose(smoothgrad(model, images, n_samples=4), expected, atol=1e-6)
