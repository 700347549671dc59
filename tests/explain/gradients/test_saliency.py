import keras
import numpy as np
import pytest
import tensorflow as tf

from emolens.explain.gradients.saliency import saliency
from tests.toy_models import linear_pixel_model, tiny_cnn


def _images(n=3, shape=(6, 6, 2), seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def test_saliency_of_a_linear_model_is_abs_weights():
    keras.utils.set_random_seed(0)
    weights = np.random.default_rng(1).normal(size=(3, 6, 6, 2)).astype(np.float32)
    model = linear_pixel_model(weights)
    maps = saliency(model, _images(), targets=[0, 1, 2])
    expected = np.abs(weights).max(axis=-1)
    expected /= expected.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(maps, expected, atol=1e-5)


def test_saliency_none_targets_uses_top_class():
    weights = np.random.default_rng(2).normal(size=(3, 6, 6, 2)).astype(np.float32)
    model = linear_pixel_model(weights)
    images = _images(5)
    top = np.argmax(model.predict(images, verbose=0), axis=-1)
    np.testing.assert_allclose(saliency(model, images), saliency(model, images, top), atol=0)


def _reference_saliency(model, image, target):
    """One image, eager tape on the probabilities' input (the Softmax layer's input)."""
    logits_model = keras.Model(model.inputs, model.get_layer("logits").output)
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = logits_model(x)[0, target]
    grad = np.abs(tape.gradient(score, x).numpy()[0]).max(axis=-1)
    return grad / grad.max() if grad.max() > 0 else grad


def test_saliency_matches_one_by_one_reference_on_a_cnn():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((8, 8, 1))
    images = _images(5, (8, 8, 1))
    targets = np.array([0, 1, 2, 0, 1])
    maps = saliency(model, images, targets, batch_size=2)
    for i in range(5):
        np.testing.assert_allclose(
            maps[i], _reference_saliency(model, images[i], targets[i]), atol=1e-5
        )


def test_saliency_errors_say_what_arrived():
    model = linear_pixel_model(np.ones((2, 4, 4, 1), np.float32))
    with pytest.raises(ValueError, match=r"expects images shaped \(N, H, W, C\)"):
        saliency(model, np.zeros((4, 4, 1), np.float32))
    with pytest.raises(ValueError, match="out of range"):
        saliency(model, np.zeros((1, 4, 4, 1), np.float32), targets=5)
