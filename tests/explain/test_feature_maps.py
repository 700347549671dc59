import keras
import numpy as np
import pytest

from emolens.explain._layers import outputs_model
from emolens.explain.feature_maps import (
    default_layers,
    feature_maps,
    plot_feature_maps,
    top_channels,
)
from tests.toy_models import tiny_cnn


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return tiny_cnn((8, 8, 1))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((5, 8, 8, 1), dtype=np.float32)


def nested_model():
    keras.utils.set_random_seed(1)
    inner_in = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, name="inner_conv")(inner_in)
    x = keras.layers.BatchNormalization(name="inner_bn")(x)
    x = keras.layers.ReLU(name="inner_relu")(x)
    inner = keras.Model(inner_in, x, name="backbone")
    images = keras.Input((8, 8, 1), name="image")
    feats = keras.layers.Conv2D(2, 1, name="stem")(images)
    feats = inner(keras.layers.Conv2D(1, 1, name="squeeze")(feats))
    logits = keras.layers.Dense(3, name="logits")(keras.layers.GlobalAveragePooling2D()(feats))
    return keras.Model(images, keras.layers.Softmax(name="probs")(logits)), inner


def test_default_layers_are_conv_block_outputs(model):
    assert default_layers(model) == ["conv1", "feat_relu"]
    nested, _ = nested_model()
    assert default_layers(nested) == ["stem", "squeeze", "backbone/inner_relu"]


def test_default_layers_leave_out_squeeze_excitation_gates():
    """A squeeze-excitation block's 1x1 convs act on a pooled (N, 1, 1, C) tensor: one-pixel
    maps, left out of the defaults (EfficientNetB0 has 32 of them), still readable by name."""
    images = keras.Input((8, 8, 1), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(images)
    gate = keras.layers.GlobalAveragePooling2D(keepdims=True, name="squeeze")(x)
    gate = keras.layers.Conv2D(2, 1, activation="relu", name="se_reduce")(gate)
    gate = keras.layers.Conv2D(4, 1, activation="sigmoid", name="se_expand")(gate)
    x = keras.layers.Multiply(name="excite")([x, gate])
    x = keras.layers.Conv2D(3, 1, name="head_conv")(x)
    logits = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    se = keras.Model(images, keras.layers.Softmax(name="probs")(logits))
    assert default_layers(se) == ["conv", "head_conv"]
    acts = feature_maps(se, np.zeros((2, 8, 8, 1), np.float32), ["se_reduce"])
    assert acts["se_reduce"].shape == (2, 1, 1, 2)


def test_activations_match_a_direct_sub_model(model, images):
    acts = feature_maps(model, images, ["feat", 1], batch_size=2)
    assert list(acts) == ["feat", "conv1"]
    for name, array in acts.items():
        direct = keras.Model(model.inputs[0], model.get_layer(name).output)(images)
        assert array.dtype == np.float32 and array.shape == (5, 8, 8, direct.shape[-1])
        np.testing.assert_allclose(array, direct, atol=1e-5)


def test_nested_layers_batched_equals_one_by_one():
    nested, inner = nested_model()
    images = np.random.default_rng(2).random((5, 8, 8, 1), dtype=np.float32)
    acts = feature_maps(nested, images, batch_size=2)
    squeezed = keras.Model(nested.inputs[0], nested.get_layer("squeeze").output)(images)
    np.testing.assert_allclose(acts["backbone/inner_relu"], inner(squeezed), atol=1e-5)
    single = [feature_maps(nested, images[i : i + 1]) for i in range(5)]
    for name, array in acts.items():
        np.testing.assert_allclose(array, np.concatenate([s[name] for s in single]), atol=1e-5)


def test_sub_model_is_built_once(model, images):
    feature_maps(model, images, "feat")
    first = outputs_model(model, ("feat",))
    feature_maps(model, images, "feat")
    assert outputs_model(model, ("feat",)) is first


def test_unknown_layers_are_reported(model, images):
    with pytest.raises(ValueError, match="not in model"):
        feature_maps(model, images, "nope")
    with pytest.raises(ValueError, match="out of range"):
        feature_maps(model, images, 99)
    dense_only = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no convolution or attention layers"):
        feature_maps(dense_only, np.zeros((1, 2, 2, 1), np.float32))


def test_top_channels_known_answer():
    acts = np.zeros((2, 2, 2, 4), np.float32)
    acts[0, ..., 2] = 3.0
    acts[0, 0, 0, 1] = 10.0  # max 10, mean 2.5
    acts[1, ..., 0] = 1.0
    np.testing.assert_array_equal(top_channels(acts, 2, by="mean"), [[2, 1], [0, 1]])
    np.testing.assert_array_equal(top_channels(acts, 2, by="max"), [[1, 2], [0, 1]])
    assert top_channels(acts, 10).shape == (2, 4)
    with pytest.raises(ValueError, match="by must be"):
        top_channels(acts, 2, by="median")


def panels(figure):
    return [ax.images[0] for ax in figure.axes]


def test_per_channel_scales_every_panel_to_full_range():
    acts = np.zeros((1, 3, 3, 2), np.float32)
    acts[0, ..., 0] = np.arange(9).reshape(3, 3)  # range 0..8
    acts[0, ..., 1] = np.arange(9).reshape(3, 3) * 0.5  # range 0..4
    shown = panels(plot_feature_maps(acts, k=2, normalize="per_channel"))
    for image in shown:
        assert image.get_clim() == (0.0, 1.0)
        np.testing.assert_allclose(image.get_array(), np.arange(9).reshape(3, 3) / 8, atol=1e-6)


def test_per_layer_keeps_channels_comparable():
    acts = np.zeros((1, 3, 3, 2), np.float32)
    acts[0, ..., 0] = np.arange(9).reshape(3, 3)
    acts[0, ..., 1] = np.arange(9).reshape(3, 3) * 0.5
    strong, weak = panels(plot_feature_maps({"layer": acts}, k=2, normalize="per_layer"))
    np.testing.assert_allclose(strong.get_array(), np.arange(9).reshape(3, 3) / 8, atol=1e-6)
    np.testing.assert_allclose(weak.get_array(), np.arange(9).reshape(3, 3) / 16, atol=1e-6)


def test_plot_grid_and_errors(model, images):
    acts = feature_maps(model, images)
    figure = plot_feature_maps(acts, k=5, columns=4, index=-1)
    assert len(figure.axes) == 10  # 5 panels per layer, 2 layers
    assert figure.axes[0].get_title().startswith("conv1")
    with pytest.raises(ValueError, match="normalize"):
        plot_feature_maps(acts, normalize="global")
    with pytest.raises(ValueError, match=r"\(1, 5, 8\) \(a token or dense layer has no spatial"):
        plot_feature_maps({"block0_out": np.zeros((1, 5, 8))})


def test_attention_scores_are_not_plotted_as_feature_maps():
    """feature_maps returns a ViT's attention (N, heads, T, T) beside its conv maps; 4-D, so
    before, plot_feature_maps drew heads as rows and tokens as channels without a word."""
    from tests.explain.vit.toy_vit import fixed_attention_vit, random_attention

    vit = fixed_attention_vit([random_attention(2, 5, seed=0)])
    acts = feature_maps(vit, np.random.default_rng(0).random((1, 4, 4, 1), dtype=np.float32))
    assert acts.attention == ("attn_probs_0",) and acts["attn_probs_0"].shape == (1, 2, 5, 5)
    with pytest.raises(ValueError, match=r"'attn_probs_0' hold attention scores.*attention_map"):
        plot_feature_maps(acts)
    kept = {k: v for k, v in acts.items() if k not in acts.attention}
    assert kept == {}  # the fix the message gives runs (this toy has no conv layer)
