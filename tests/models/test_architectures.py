"""Every zoo architecture: output contract, logits -> probs head, `.keras` round trip, errors."""

import keras
import numpy as np
import pytest

from emolens import models  # noqa: F401  (registers the custom layers safe_mode needs)
from emolens.models import zoo

# Small widths keep the whole file fast; the structure under test is the same.
SMALL = {
    "vgg": {"widths": (8, 16)},
    "resnet18": {"width": 4},
    "resnet34": {"width": 4},
    "mini_xception": {"widths": (8, 16)},
    "mobilenetv2": {"alpha": 0.35},
    "vit": {"dim": 16, "depth": 2, "heads": 2, "mlp_dim": 32},
}
APPLICATIONS = ("mobilenetv2", "efficientnetb0")


def _images(shape, n=3, seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def _probs(model, images):
    return keras.ops.convert_to_numpy(model(images, training=False))


def _check_contract(model, images, num_classes):
    probs = _probs(model, images)
    assert probs.shape == (len(images), num_classes)
    assert probs.dtype == np.float32
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # The head is Dense "logits" followed by a separate Softmax "probs" that is the output.
    logits_layer, probs_layer = model.get_layer("logits"), model.get_layer("probs")
    assert isinstance(logits_layer, keras.layers.Dense)
    assert isinstance(probs_layer, keras.layers.Softmax)
    assert model.layers[-1] is probs_layer
    logits_model = keras.Model(model.input, logits_layer.output)
    logits = keras.ops.convert_to_numpy(logits_model(images, training=False))
    assert logits.shape == (len(images), num_classes)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(keras.ops.softmax(logits)), probs, atol=1e-6
    )
    return probs


def test_the_zoo_lists_every_architecture():
    assert zoo.architectures() == sorted(
        [
            "alexnet",
            "efficientnetb0",
            "lenet",
            "mini_xception",
            "mobilenetv2",
            "resnet18",
            "resnet34",
            "vgg",
            "vit",
        ]
    )
    assert zoo.available()["architectures"] == zoo.architectures()


@pytest.mark.parametrize("name", zoo.architectures())
def test_architecture_builds_predicts_and_round_trips(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = zoo.build(name, "emo3", (48, 48, 1), **SMALL.get(name, {}))
    assert model.class_names == ("angry", "happy", "sad")
    images = _images((48, 48, 1))
    probs = _check_contract(model, images, 3)

    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_probs(reloaded, images), probs, atol=1e-6)
    assert [layer.name for layer in reloaded.layers] == [layer.name for layer in model.layers]


@pytest.mark.parametrize("name", APPLICATIONS)
def test_applications_accept_small_rgb_faces(name):
    keras.utils.set_random_seed(0)
    model = zoo.build(name, "fer7", (32, 32, 3), **SMALL.get(name, {}))
    _check_contract(model, _images((32, 32, 3), n=2), 7)


def test_a_class_count_builds_a_model_without_class_names():
    model = zoo.build("vgg", 5, (24, 24, 1), widths=(4,))
    assert model.outputs[0].shape[-1] == 5
    assert not hasattr(model, "class_names")


def test_vit_exposes_attention_probabilities():
    model = zoo.build("vit", "emo3", (48, 48, 1), **SMALL["vit"])
    attention = model.get_layer("block1_attn")
    assert attention.output[1].shape == (None, 2, 145, 145)  # 12x12 patches + class token


@pytest.mark.parametrize(("patch_size", "grid"), [(4, 12), (8, 6)])
def test_vit_conv_stem_keeps_the_patch_grid_and_roundtrips(tmp_path, patch_size, grid):
    model = zoo.build(
        "vit", "emo3", (48, 48, 1), stem="conv", patch_size=patch_size, **SMALL["vit"]
    )
    assert model.get_layer("patch_embed").output.shape == (None, grid, grid, 16)
    tokens = grid * grid + 1
    assert model.get_layer("block1_attn").output[1].shape == (None, 2, tokens, tokens)
    strided = [layer for layer in model.layers if getattr(layer, "strides", (1, 1)) == (2, 2)]
    assert len(strided) == patch_size.bit_length() - 1  # one stride-2 conv per halving
    images = _images((48, 48, 1))
    path = tmp_path / "vit_conv.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_probs(loaded, images), _probs(model, images), atol=1e-6)


def test_vit_hybrid_stem_has_the_asked_widths_and_depth():
    model = zoo.build(
        "vit",
        "emo3",
        (48, 48, 1),
        stem="conv",
        patch_size=4,
        stem_widths=[4, 8, 12],
        stem_depth=2,
        **SMALL["vit"],
    )
    convs = [layer for layer in model.layers if layer.name.startswith("stem")]
    convs = [layer for layer in convs if layer.name.endswith("_conv")]
    assert [c.filters for c in convs] == [4, 4, 8, 8, 12, 12]
    assert [c.strides[0] for c in convs] == [1, 1, 2, 1, 2, 1]
    assert model.get_layer("patch_embed").output.shape == (None, 12, 12, 16)


@pytest.mark.parametrize(
    ("name", "shape", "kwargs", "match"),
    [
        ("vgg", (48, 48), {}, r"input_shape must be \(H, W, C\); got \(48, 48\)"),
        ("lenet", (48, 48, 1, 1), {}, r"input_shape must be \(H, W, C\)"),
        ("mobilenetv2", (24, 24, 1), {}, "at least 32x32; got \\(24, 24\\)"),
        ("efficientnetb0", (16, 48, 3), {}, "at least 32x32"),
        ("mobilenetv2", (48, 48, 1), {"input_scale": 0.5}, r"\(24, 24\)\. Use a larger input_s"),
        ("efficientnetb0", (48, 48, 1), {"input_scale": 0}, "input_scale must be > 0; got 0"),
        ("efficientnetb0", (48, 48, 1), {"width": 0}, "width must be > 0; got 0"),
        (
            "efficientnetb0",
            (48, 48, 1),
            {"width": 0.5, "weights": "imagenet"},
            r"ImageNet weights are loaded only for EfficientNetB0 as published; got width=0\.5, "
            r"drop_connect=0\.2\. .*weights=None",
        ),
        ("vit", (50, 50, 1), {"patch_size": 4}, "50x50 is not a multiple of patch_size=4"),
        ("vit", (48, 48, 1), {"dim": 10, "heads": 4}, "dim=10 must be divisible by heads=4"),
        ("vit", (48, 48, 1), {"stem": "conv", "patch_size": 6}, "power-of-2 patch_size"),
        ("vit", (48, 48, 1), {"stem": "hybrid"}, "Unknown stem 'hybrid'; use 'patch' or 'conv'"),
        (
            "vit",
            (48, 48, 1),
            {"stem": "conv", "patch_size": 8, "stem_widths": [8, 16]},
            r"stem_widths needs 4 widths for patch_size=8 .*got \[8, 16\]",
        ),
        (
            "vit",
            (64, 64, 1),
            {"stem": "conv", "patch_size": 4, "stem_widths": [8]},
            r"needs 3 widths for patch_size=4 \(one per resolution, halving 2 times: 64 -> 16 px",
        ),
    ],
)
def test_bad_input_shapes_raise_clear_errors(name, shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.build(name, "emo3", shape, **kwargs)


def test_unknown_architecture_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"Unknown architecture 'vgg99'\. Available: alexnet, "):
        zoo.build("vgg99")


def test_unknown_class_set_names_the_choices():
    with pytest.raises(ValueError, match="Unknown class set 'fer8'. Choose one of: fer7, emo3"):
        zoo.build("vgg", "fer8")


def test_alexnet_width_scales_every_layer_and_rejects_nonpositive():
    full = zoo.build("alexnet", "emo3", (48, 48, 1))
    half = zoo.build("alexnet", "emo3", (48, 48, 1), width=0.5)
    for name in ("conv1_conv", "conv2_conv", "conv3_conv", "conv4_conv", "conv5_conv", "fc1"):
        filters = full.get_layer(name).get_config().get("filters") or full.get_layer(name).units
        halved = half.get_layer(name).get_config().get("filters") or half.get_layer(name).units
        assert halved == filters // 2, name
    assert half.count_params() < full.count_params() / 3
    with pytest.raises(ValueError, match="width must be > 0; got 0"):
        zoo.build("alexnet", "emo3", (48, 48, 1), width=0)


def test_mobilenetv2_bn_momentum_sets_every_batchnorm_and_survives_saving(tmp_path):
    def momenta(model):
        return {
            layer.momentum
            for layer in model._flatten_layers()
            if isinstance(layer, keras.layers.BatchNormalization)
        }

    assert momenta(zoo.build("mobilenetv2", "emo3", (48, 48, 1), alpha=0.35)) == {0.999}
    model = zoo.build("mobilenetv2", "emo3", (48, 48, 1), alpha=0.35, bn_momentum=0.99)
    assert momenta(model) == {0.99}
    model.save(tmp_path / "m.keras")
    assert momenta(keras.saving.load_model(tmp_path / "m.keras")) == {0.99}
    with pytest.raises(ValueError, match="bn_momentum must be in"):
        zoo.build("mobilenetv2", "emo3", (48, 48, 1), alpha=0.35, bn_momentum=1.0)


def test_efficientnetb0_width_scales_every_conv_to_multiples_of_8_and_round_trips(tmp_path):
    """width 0.5 halves each stage's channels, rounded to a multiple of 8 as EfficientNet's
    width coefficient does (24 -> 16; expansion convs then multiply the rounded width by the
    block's ratio); the depth (same layer names) is B0's; the common builder this width
    goes through is keras.applications.EfficientNetB0 at width 1 (a width a hair above 1.0
    rounds every layer to B0's channels); a weights file saved at width 0.5 loads back."""

    def convs(model):
        backbone = model.get_layer("efficientnetb0")
        return {
            layer.name: layer.filters
            for layer in backbone.layers
            if type(layer) is keras.layers.Conv2D and "_se_" not in layer.name
        }

    full = zoo.build("efficientnetb0", "emo3", (48, 48, 1))
    reference = keras.applications.EfficientNetB0(
        input_shape=(48, 48, 3), include_top=False, weights=None
    )
    hair = zoo.build("efficientnetb0", "emo3", (48, 48, 1), width=1.0 + 1e-9)
    assert hair.get_layer("efficientnetb0").count_params() == reference.count_params()
    assert convs(hair) == convs(full)
    keras.utils.set_random_seed(0)
    half = zoo.build("efficientnetb0", "emo3", (48, 48, 1), width=0.5)
    full_convs, half_convs = convs(full), convs(half)
    assert half_convs.keys() == full_convs.keys() and len(half_convs) > 30
    for name, filters in full_convs.items():
        assert half_convs[name] % 8 == 0 and half_convs[name] < filters, name
        if "expand" not in name:
            assert abs(half_convs[name] - filters / 2) <= 4, name
    assert half_convs["stem_conv"] == 16 and half_convs["top_conv"] == 640
    assert half.count_params() < full.count_params() / 3
    images = _images((48, 48, 1), n=2)
    half.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(_probs(reloaded, images), _probs(half, images), atol=1e-6)
    half.get_layer("efficientnetb0").save_weights(tmp_path / "half.weights.h5")
    keras.utils.set_random_seed(1)
    again = zoo.build(
        "efficientnetb0", "emo3", (48, 48, 1), width=0.5, weights=str(tmp_path / "half.weights.h5")
    )
    loaded, saved = (m.get_layer("efficientnetb0").weights for m in (again, half))
    for mine, theirs in zip(loaded, saved, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", APPLICATIONS)
def test_input_scale_resizes_inside_the_model_to_a_finer_last_grid(name, tmp_path):
    """48x48 faces at input_scale 1.5 reach the backbone as 72x72 (bilinear, as
    tf.image.resize) and end on a 3x3 grid instead of 2x2; the model still takes 48x48."""
    import tensorflow as tf

    from emolens.explain._layers import resolve_layer

    keras.utils.set_random_seed(0)
    plain = zoo.build(name, "emo3", (48, 48, 1), **SMALL.get(name, {}))
    model = zoo.build(name, "emo3", (48, 48, 1), input_scale=1.5, **SMALL.get(name, {}))
    assert model.input_shape == (None, 48, 48, 1)
    images = _images((48, 48, 1), n=2)
    np.testing.assert_allclose(
        model.get_layer("upscale")(images), tf.image.resize(images, (72, 72)), atol=1e-6
    )
    grid = {m: m.get_layer(resolve_layer(m, None).split("/")[0]) for m in (plain, model)}
    assert grid[plain].output.shape[1:3] == (2, 2) and grid[model].output.shape[1:3] == (3, 3)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(_probs(reloaded, images), _probs(model, images), atol=1e-6)


def test_efficientnetb0_drop_connect_sets_stochastic_depth_and_round_trips(tmp_path):
    """drop_connect is the last block's stochastic-depth rate (B0's 0.2 by default; earlier
    blocks drop linearly less); 0.0 leaves no block dropout; the rate survives save/load;
    out-of-range rates and ImageNet weights on a non-published net are refused."""

    def rates(model):
        backbone = model.get_layer("efficientnetb0")
        return [
            layer.rate
            for layer in backbone.layers
            if isinstance(layer, keras.layers.Dropout) and layer.name.endswith("_drop")
        ]

    default = rates(zoo.build("efficientnetb0", "emo3", (48, 48, 1), width=0.5))
    # 9: the blocks with a residual connection (B0 has 16 blocks)
    assert len(default) == 9 and 0.0 < min(default) and max(default) < 0.2
    assert default == sorted(default) and max(default) == pytest.approx(0.175)  # 0.2 * 14 / 16
    off = zoo.build("efficientnetb0", "emo3", (48, 48, 1), width=0.5, drop_connect=0.0)
    assert rates(off) == []  # keras adds the dropout layer only for a positive rate
    half = zoo.build("efficientnetb0", "emo3", (48, 48, 1), width=0.5, drop_connect=0.1)
    assert max(rates(half)) == pytest.approx(max(default) / 2)
    half.save(tmp_path / "m.keras")
    assert rates(keras.saving.load_model(tmp_path / "m.keras")) == rates(half)
    with pytest.raises(ValueError, match=r"drop_connect must be in \[0, 1\); got 1.0"):
        zoo.build("efficientnetb0", "emo3", (48, 48, 1), width=0.5, drop_connect=1.0)
    with pytest.raises(ValueError, match="drop_connect=0.0. Use width=1.0 and drop_connect=0.2"):
        zoo.build("efficientnetb0", "emo3", (48, 48, 1), weights="imagenet", drop_connect=0.0)
