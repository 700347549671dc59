"""The zoo registry: register/load by name or path, class names from cards, clear errors."""

import json

import keras
import numpy as np
import pytest

from emolens.models import zoo


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
