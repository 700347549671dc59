import keras
import numpy as np
import pytest

from emolens.explain.layer_summary import layer_summary


def probe_model():
    """1x1 conv "conv" with channels +x, -x, 0 -> ReLU "relu" -> GAP -> identity-ish logits."""
    images = keras.Input((4, 4, 1), name="image")
    conv = keras.layers.Conv2D(3, 1, use_bias=False, name="conv")
    acts = keras.layers.ReLU(name="relu")(conv(images))
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(acts)
    head = keras.layers.Dense(2, name="logits")
    logits = head(pooled)
    model = keras.Model(images, keras.layers.Softmax(name="probs")(logits))
    conv.set_weights([np.array([1.0, -1.0, 0.0], np.float32).reshape(1, 1, 1, 3)])
    head.set_weights([np.array([[1, -1], [0, 0], [0, 0]], np.float32), np.array([-0.5, 0.5])])
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    bright = rng.uniform(0.6, 1.0, (6, 4, 4, 1)).astype(np.float32)
    dark = rng.uniform(0.0, 0.2, (4, 4, 4, 1)).astype(np.float32)
    return np.concatenate([bright, dark]), np.array([0] * 6 + [1] * 4)


def test_known_dead_channels_and_class_means(data):
    images, labels = data
    table = layer_summary(probe_model(), images, labels, ["bright", "dark"]).set_index("layer")
    assert list(table.index) == ["conv", "relu", "gap", "logits", "probs"]
    relu = table.loc["relu"]
    assert relu.output_shape == (4, 4, 3) and relu.channels == 3
    assert relu.dead_fraction == pytest.approx(2 / 3)
    assert table.loc["conv"].dead_fraction == pytest.approx(1 / 3)  # the 0 channel
    assert relu.mean_bright == pytest.approx(images[:6].mean() / 3, rel=1e-5)
    assert relu.mean_dark == pytest.approx(images[6:].mean() / 3, rel=1e-5)
    top, rest = images[:6].mean(), images[6:].mean()
    assert relu.selective_channel == 0
    assert relu.selectivity == pytest.approx((top - rest) / (top + rest), rel=1e-5)
    assert np.isnan(table.loc["conv"].selectivity)  # negative activations


def test_streaming_equals_one_batch_and_predicted_labels(data):
    images, labels = data
    model = probe_model()
    small = layer_summary(model, images, labels, batch_size=3)
    whole = layer_summary(model, images, labels, batch_size=64)
    assert small.equals(whole) or np.allclose(
        small.select_dtypes("number"), whole.select_dtypes("number"), equal_nan=True
    )
    assert list(small.columns[5:7]) == ["mean_class_0", "mean_class_1"]
    predicted = layer_summary(model, images)  # logit 0 = mean(x) - 0.5: bright -> class 0
    assert predicted.attrs["labels"] == "predicted"
    np.testing.assert_allclose(
        predicted.select_dtypes("number"), small.select_dtypes("number"), equal_nan=True
    )


def test_bad_labels_are_rejected(data):
    images, _ = data
    with pytest.raises(ValueError, match="targets for 10 images"):
        layer_summary(probe_model(), images, [0, 1])
    with pytest.raises(ValueError, match="3 class names for a model with 2 classes"):
        layer_summary(probe_model(), images, None, ["a", "b", "c"])
