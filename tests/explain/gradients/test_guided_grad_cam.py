import keras
import numpy as np
import pytest

from emolens.explain.cam.grad_cam import grad_cam
from emolens.explain.gradients.guided_backprop import guided_backprop_gradients, guided_logits_model
from emolens.explain.gradients.guided_grad_cam import guided_grad_cam
from emolens.explain.gradients.saliency import saliency
from tests.reference.guided_backprop import guided_backprop_one
from tests.toy_models import tiny_cnn


def _images(n=4, shape=(8, 8, 1), seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return tiny_cnn((8, 8, 1))


def test_guided_backprop_matches_the_reference(model):
    images = _images()
    targets = [0, 1, 2, 0]
    grads = guided_backprop_gradients(model, images, targets, batch_size=3)
    for i, target in enumerate(targets):
        np.testing.assert_allclose(
            grads[i], guided_backprop_one(model, images[i], target), atol=1e-6
        )


def test_guided_backprop_differs_from_vanilla_and_leaves_the_model_alone(model):
    images = _images()
    before = saliency(model, images, 0)
    guided = np.abs(guided_backprop_gradients(model, images, 0)).max(axis=-1)
    guided /= guided.max(axis=(1, 2), keepdims=True)
    assert np.abs(guided - before).max() > 1e-2
    np.testing.assert_array_equal(saliency(model, images, 0), before)
    plain = keras.Model(model.inputs[0], model.get_layer("logits").output)
    np.testing.assert_allclose(guided_logits_model(model)(images), plain(images), atol=1e-6)
    assert not any(layer.name.startswith("guided_") for layer in model.layers)


def test_guided_grad_cam_is_guided_backprop_times_grad_cam(model):
    images = _images()
    maps = guided_grad_cam(model, images, [2, 1, 0, 1], "feat")
    guided = np.abs(guided_backprop_gradients(model, images, [2, 1, 0, 1])).max(axis=-1)
    expected = guided * grad_cam(model, images, [2, 1, 0, 1], "feat")
    peak = expected.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(maps, expected / np.where(peak > 0, peak, 1), atol=1e-5)
    top = np.argmax(model.predict(images, verbose=0), axis=-1)
    np.testing.assert_allclose(guided_grad_cam(model, images), guided_grad_cam(model, images, top))


def test_guided_grad_cam_rejects_an_unknown_layer(model):
    with pytest.raises(ValueError, match="not in model"):
        guided_grad_cam(model, _images(1), 0, "nope")
