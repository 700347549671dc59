import keras
import numpy as np
import pytest
import tensorflow as tf

from emolens.explain._layers import outputs_model
from emolens.explain.activation_max import _initial_images, _objective, activation_maximization
from emolens.models.architectures.vgg import build_vgg


def linear_filter_model(pattern: np.ndarray) -> keras.Model:
    """A 6x6 'valid' conv "feat": channel 0 is sum(pattern * x), channel 1 a random filter."""
    images = keras.Input((6, 6, 1), name="image")
    conv = keras.layers.Conv2D(2, 6, name="feat")
    feats = conv(images)  # (N, 1, 1, 2)
    logits = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(feats))
    model = keras.Model(images, keras.layers.Softmax(name="probs")(logits))
    other = np.random.default_rng(9).normal(size=(6, 6))
    kernel = np.stack([pattern, other], axis=-1)[:, :, None, :].astype(np.float32)
    conv.set_weights([kernel, np.zeros(2, np.float32)])
    return model


def correlation(a, b):
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def test_optimised_image_follows_a_known_linear_filter():
    pattern = np.random.default_rng(0).normal(size=(6, 6))
    model = linear_filter_model(pattern)
    images = activation_maximization(model, "feat", 0, steps=40, lr=0.1, jitter=0, blur_every=0)
    assert images.shape == (1, 6, 6, 1) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    # the optimum of sum(pattern * x) on [0, 1] is x = (pattern > 0)
    np.testing.assert_array_equal(images[0, ..., 0] > 0.5, pattern > 0)
    assert correlation(images, pattern) > 0.7


def test_class_logit_target_follows_its_weights():
    pattern = np.random.default_rng(1).normal(size=(6, 6))
    model = linear_filter_model(pattern)
    model.get_layer("logits").set_weights([np.array([[1, 0], [0, 1]], np.float32), np.zeros(2)])
    images = activation_maximization(model, target_class=0, steps=40, lr=0.1, jitter=0)
    assert correlation(images, pattern) > 0.6


@pytest.fixture(scope="module")
def zoo_cnn():
    keras.utils.set_random_seed(0)
    return build_vgg((48, 48, 1), 3, widths=(8, 16), convs_per_block=1)


def test_zoo_cnn_at_48_is_deterministic_and_raises_the_activation(zoo_cnn):
    channels = [1, 2, 5]
    first = activation_maximization(zoo_cnn, "block2_conv1", channels, steps=12, seed=3)
    again = activation_maximization(zoo_cnn, "block2_conv1", channels, steps=12, seed=3)
    other = activation_maximization(zoo_cnn, "block2_conv1", channels, steps=12, seed=4)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-3
    assert first.shape == (3, 48, 48, 1) and 0.0 <= first.min() and first.max() <= 1.0
    sub_model = outputs_model(zoo_cnn, ("block2_conv1",))
    units = tf.constant(channels)
    start = _objective(sub_model(_initial_images((48, 48, 1), 3, seed=3)), units).numpy()
    end = _objective(sub_model(first), units).numpy()
    live = start > 0
    assert live.any() and np.all(end[live] > start[live])


def test_class_target_on_zoo_cnn_raises_its_logit(zoo_cnn):
    images = activation_maximization(zoo_cnn, target_class=[2], steps=12)
    logits = keras.Model(zoo_cnn.inputs[0], zoo_cnn.get_layer("logits").output)
    start = logits(_initial_images((48, 48, 1), 1, seed=0)).numpy()[0, 2]
    assert logits(images).numpy()[0, 2] > start


def test_arguments_are_checked(zoo_cnn):
    with pytest.raises(ValueError, match="exactly one of"):
        activation_maximization(zoo_cnn, "block2_conv1")
    with pytest.raises(ValueError, match="exactly one of"):
        activation_maximization(zoo_cnn, channel=0, target_class=1)
    with pytest.raises(ValueError, match="out of range for layer 'block2_conv1' with 16"):
        activation_maximization(zoo_cnn, "block2_conv1", 16)
    with pytest.raises(ValueError, match="out of range"):
        activation_maximization(zoo_cnn, target_class=7)
