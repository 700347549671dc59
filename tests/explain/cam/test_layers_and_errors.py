"""Layer choice (nested keras.applications backbones, softmax heads) and error messages."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from emolens.explain import METHODS, grad_cam, multi_layer_cam, score_cam
from emolens.explain._layers import feature_model
from tests.toy_models import linear_probe_model, tiny_cnn


@pytest.mark.slow  # ~15 s: builds and traces MobileNetV2; the nested probe tests are the fast check
def test_nested_mobilenetv2_backbone_gives_connected_gradients():
    # The (32, 32, 3) colour variant behaves the same; one size keeps the suite fast.
    from emolens.models.architectures.applications import build_mobilenetv2

    keras.utils.set_random_seed(0)
    model = build_mobilenetv2((48, 48, 1), num_classes=3, weights=None, alpha=0.35)
    images = np.random.default_rng(0).random((2, 48, 48, 1), dtype=np.float32)
    layer = "mobilenetv2_0.35_48/out_relu"  # the default: last spatial layer, in the backbone
    features = feature_model(model, None)
    batch = tf.constant(images)
    with tf.GradientTape() as tape:
        acts, logits = features(batch)
        score = tf.reduce_sum(logits[:, 1])
    grads = tape.gradient(score, acts)
    assert grads is not None and float(tf.reduce_max(tf.abs(grads))) > 0
    np.testing.assert_allclose(tf.nn.softmax(logits), model(batch), atol=1e-6)
    backbone = model.layers[3]
    inner = keras.Model(backbone.inputs, backbone.get_layer(layer.split("/")[1]).output)
    scaled = keras.Model(model.inputs, model.get_layer("to_minus1_1").output)
    np.testing.assert_allclose(acts, inner(scaled(batch)), atol=1e-5)
    assert features is feature_model(model, layer)  # cached, default == qualified name
    maps = METHODS["layer_cam"](model, images, None)
    assert maps.shape == (2, 48, 48) and maps.max() == pytest.approx(1.0)


def test_dense_softmax_head_is_bypassed_with_shared_weights():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((10, 10, 1))
    fused_head = keras.layers.Dense(3, activation="softmax", name="head")
    fused = keras.Model(model.inputs, fused_head(model.get_layer("gap").output))
    fused_head.set_weights(model.get_layer("logits").get_weights())
    images = np.random.default_rng(0).random((3, 10, 10, 1), dtype=np.float32)
    np.testing.assert_allclose(
        grad_cam(fused, images, 2, "feat"), grad_cam(model, images, 2, "feat"), atol=1e-6
    )


def test_a_softmax_that_cannot_be_bypassed_warns():
    images = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(2, 3, name="feat")(images)
    x = keras.layers.GlobalAveragePooling2D()(x)
    probs = keras.layers.EinsumDense("ab,bc->ac", output_shape=3, activation="softmax")(x)
    model = keras.Model(images, probs)
    with pytest.warns(UserWarning, match="cannot bypass"):
        grad_cam(model, np.full((1, 6, 6, 1), 0.5, np.float32), 0, "feat")


@pytest.fixture(scope="module")
def probe():
    return linear_probe_model((8, 8, 1))


GOOD = np.full((2, 8, 8, 1), 0.5, np.float32)


@pytest.mark.parametrize("name", ["grad_cam", "eigen_cam", "score_cam", "ablation_cam"])
def test_errors_say_what_arrived(name, probe):
    method = METHODS[name]
    with pytest.raises(ValueError, match=r"expects images shaped \(N, H, W, C\); got \(8, 8, 1\)"):
        method(probe, GOOD[0], 0, "feat")
    with pytest.raises(ValueError, match=r"'nope' is not in model .*Its layers: .*, feat, "):
        method(probe, GOOD, 0, "nope")
    with pytest.raises(ValueError, match=r"'feet' is not in model .*\. Closest names: feat"):
        method(probe, GOOD, 0, "feet")
    with pytest.raises(ValueError, match="'gap' .* has no spatial"):
        method(probe, GOOD, 0, "gap")
    with pytest.raises(ValueError, match="Target class 5 is out of range for a model with 2"):
        method(probe, GOOD, 5, "feat")
    with pytest.raises(ValueError, match="Got 3 targets for 2 images"):
        method(probe, GOOD, [0, 1, 1], "feat")


def test_option_errors(probe):
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        score_cam(probe, GOOD, 0, "feat", top_k=0)
    with pytest.raises(ValueError, match="base must be one of"):
        multi_layer_cam(probe, GOOD, 0, "feat", base="hires")
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        grad_cam(probe, GOOD, 0, "feat", batch_size=0)
