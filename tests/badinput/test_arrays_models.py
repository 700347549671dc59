"""Bad arrays, models and stores through the library: each a clear error or a graceful result."""

from __future__ import annotations

import io
import json
import zipfile

import keras
import numpy as np
import pytest

from emolens import explain, models
from emolens.explain.faces import prepare_faces
from emolens.explain.store import open_store
from tests.badinput.conftest import record
from tests.toy_models import tiny_cnn

RNG = np.random.default_rng(0)
GOOD = RNG.random((2, 12, 12, 1), dtype=np.float32)

ARRAYS = {  # name -> (images, exception type or None, message regex)
    "nan": (np.where(GOOD > 0.5, np.nan, GOOD), ValueError, "NaN or Inf.*np.nan_to_num"),
    "inf": (np.where(GOOD > 0.5, np.inf, GOOD), ValueError, "NaN or Inf"),
    "negative": (-GOOD, ValueError, r"values in \[0, 1\].*Divide uint8"),
    "uint16": ((GOOD * 65535).astype(np.uint16), ValueError, r"values in \[0, 1\]"),
    "float64": (GOOD.astype(np.float64), None, ""),
    "rank3": (GOOD[0], ValueError, r"\(N, H, W, C\).*images\[None\]"),
    "rank5": (GOOD[None], ValueError, r"\(N, H, W, C\)"),
    "rank2_gray": (GOOD[0, ..., 0], ValueError, r"\(N, H, W, C\)"),
    "zero_channels": (GOOD[..., :0], ValueError, "no pixels or no channels"),
    "zero_batch": (GOOD[:0], ValueError, "empty batch"),
    "two_channels": (np.concatenate([GOOD, GOOD], -1), ValueError, r"takes images shaped.*1\)"),
    "rgb_for_gray": (np.repeat(GOOD, 3, -1), ValueError, "convert gray/RGB to 1 channel"),
    "wrong_size": (GOOD[:, :8, :8], ValueError, r"takes images shaped \(N, 12, 12, 1\)"),
    "bool": (GOOD > 0.5, TypeError, "numeric images"),
    "strings": (np.full((1, 12, 12, 1), "a"), TypeError, "numeric images"),
}


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(0)
    return tiny_cnn((12, 12, 1), 3)


def _outcome(call, error, match):
    """Run `call`; record a clear error, a graceful result or a crash (then fail)."""
    if error is None:
        maps = call()
        ok = maps.dtype == np.float32 and np.isfinite(maps).all() and maps.min() >= 0
        record("graceful" if ok else "crash")
        assert ok
        return maps
    try:
        call()
    except error as raised:
        ok = bool(__import__("re").search(match, str(raised)))
        record("clear error" if ok else "crash")
        assert ok, f"unclear message: {raised}"
        return None
    except Exception as raised:  # noqa: BLE001
        record("crash")
        pytest.fail(f"{type(raised).__name__} instead of {error.__name__}: {raised}")
    record("crash")
    pytest.fail(f"no {error.__name__} raised")


@pytest.mark.parametrize("method", ["grad_cam", "saliency"])
@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_bad_arrays(cnn, name, method):
    images, error, match = ARRAYS[name]
    _outcome(lambda: explain.METHODS[method](cnn, images), error, match)


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.full((40, 40, 3), 2.0, np.float32), r"values in \[0, 1\]"),
        (np.zeros((40, 40, 5), np.uint8), r"\(H, W, 4\)"),
        (np.zeros((0, 40, 3), np.uint8), r"Expected an image shaped"),
        (np.zeros((40, 40, 3), np.uint8), "No face found.*whole_image_fallback=True"),
    ],
)
def test_bad_arrays_for_face_preparation(image, match):
    _outcome(lambda: prepare_faces(image), ValueError, match)


def _dense_model():
    images = keras.Input((12, 12, 1))
    logits = keras.layers.Dense(3, name="logits")(keras.layers.Flatten()(images))
    return keras.Model(images, logits, name="dense_only")


def _head(activation):
    keras.utils.set_random_seed(0)
    images = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(images)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(images, keras.layers.Dense(3, activation=activation, name="out")(x))


def _autoencoder():
    images = keras.Input((12, 12, 1))
    return keras.Model(images, keras.layers.Conv2D(1, 3, padding="same", name="conv")(images))


@pytest.mark.parametrize(
    ("name", "build", "method", "error", "match"),
    [
        ("no_conv_cam", _dense_model, "grad_cam", ValueError, "need a convolutional layer"),
        ("no_conv_score_cam", _dense_model, "score_cam", ValueError, "convolutional layer"),
        ("no_conv_saliency", _dense_model, "saliency", None, ""),
        ("no_attention", lambda: _head(None), "attention_rollout", ValueError, "attention"),
        ("softmax", lambda: _head("softmax"), "grad_cam", None, ""),
        ("sigmoid", lambda: _head("sigmoid"), "grad_cam", None, ""),
        ("logits", lambda: _head(None), "grad_cam", None, ""),
        ("non_classifier_cam", _autoencoder, "grad_cam", ValueError, "one \\(N, num_classes\\)"),
        ("non_classifier_sal", _autoencoder, "saliency", ValueError, "classifiers with one"),
    ],
)
def test_model_kinds(name, build, method, error, match):
    model = build()
    _outcome(lambda: explain.METHODS[method](model, GOOD), error, match)


def test_unknown_layer_and_class_name(cnn):
    _outcome(lambda: explain.grad_cam(cnn, GOOD, None, "conv9"), ValueError, "not in model.*feat")
    cnn.class_names = ("angry", "happy", "sad")
    try:
        _outcome(lambda: explain.grad_cam(cnn, GOOD, "bored"), ValueError, "bored")
        _outcome(lambda: explain.grad_cam(cnn, GOOD, "happy"), None, "")
    finally:
        del cnn.class_names


@pytest.fixture(scope="module")
def model_files(tmp_path_factory, cnn):
    folder = tmp_path_factory.mktemp("bad_models")
    cnn.save(folder / "good.keras")
    cnn.save(folder / "good.h5")
    images = keras.Input((12, 12, 1))
    doubled = keras.layers.Lambda(lambda t: t * 2.0)(images)
    flat = keras.layers.Flatten()(doubled)
    keras.Model(images, keras.layers.Dense(3)(flat)).save(folder / "lambda.keras")
    good = (folder / "good.keras").read_bytes()
    (folder / "truncated.keras").write_bytes(good[: len(good) // 2])
    (folder / "truncated.h5").write_bytes((folder / "good.h5").read_bytes()[:3000])
    (folder / "text.keras").write_text("not a model")
    (folder / "text.h5").write_text("not a model")
    (folder / "empty.keras").write_bytes(b"")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "a zip, but no Keras model")
    (folder / "foreign.keras").write_bytes(archive.getvalue())
    (folder / "h5_named.keras").write_bytes((folder / "good.h5").read_bytes())
    return folder


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("lambda.keras", ValueError, "Lambda layer.*safe_mode=False"),
        ("truncated.keras", ValueError, "truncated, corrupt or another format.*model.save"),
        ("truncated.h5", ValueError, "not an HDF5.*truncated"),
        ("text.keras", ValueError, "not a .keras zip archive"),
        ("text.h5", ValueError, "not an HDF5"),
        ("empty.keras", ValueError, r"\(0 bytes\)"),
        ("foreign.keras", ValueError, "config.json"),
        ("missing.keras", FileNotFoundError, "not found"),
        ("good.h5", None, ""),
    ],
)
def test_model_files(model_files, name, error, match):
    def load():
        model = models.load(model_files / name)
        return explain.grad_cam(model, GOOD)

    _outcome(load, error, match)


def test_lambda_loads_when_the_user_opts_in(model_files):
    model = models.load(model_files / "lambda.keras", safe_mode=False)
    assert model.predict(GOOD, verbose=0).shape == (2, 3)
    record("graceful")


def test_wrong_class_count(model_files):
    _outcome(
        lambda: models.load(model_files / "good.keras", classes="fer7"),
        ValueError,
        "has 3 outputs but 7 class names",
    )


@pytest.mark.parametrize("entry", ["../outside.parquet", "/etc/passwd", "shards/../../x.npy"])
def test_a_manifest_pointing_outside_the_store_is_refused(tmp_path, entry):
    from emolens.explain.store._layout import FORMAT

    store = tmp_path / "store"
    store.mkdir()
    (tmp_path / "outside.parquet").write_bytes(b"secret")
    manifest = {"format": FORMAT, "shard_size": 8, "shards": [{"rows": entry, "arrays": {}}]}
    (store / "manifest.json").write_text(json.dumps(manifest))
    _outcome(lambda: open_store(store), ValueError, "outside the store")
