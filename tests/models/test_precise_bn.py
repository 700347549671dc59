"""PreciseBN (models/precise_bn.py, `emolens soup --precise-bn`): known answers on one
BatchNorm layer, the layers it must leave alone, repair of broken statistics, and refusals."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from emolens.explain.data import load_dataset
from emolens.models import zoo
from emolens.models.evaluate import evaluate
from emolens.models.precise_bn import precise_bn
from emolens.models.soup import soup_files
from emolens.models.train import _split
from emolens.models.train_config import TrainConfig
from tests.models.test_soup import _run, _small_cnn


def _images(n: int = 10, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, 4, 4, 2)) * [1.0, 0.2] + [0.0, 0.7]).astype("float32")


def _bn_model(before: keras.layers.Layer | None = None) -> keras.Model:
    inputs = keras.Input((4, 4, 2))
    x = before(inputs) if before is not None else inputs
    return keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(x))


def test_one_batch_gives_the_exact_mean_and_variance_and_the_input_is_untouched():
    images = _images()
    model = _bn_model()
    fixed = precise_bn(model, images, batch_size=64)
    bn = fixed.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), images.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), images.var(axis=(0, 1, 2)), rtol=1e-5)
    # the original keeps Keras's initial statistics; the copy keeps its momentum and no patch
    np.testing.assert_array_equal(model.get_layer("bn").moving_mean.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(model.get_layer("bn").moving_variance.numpy(), [1.0, 1.0])
    assert bn.momentum == 0.99 and "call" not in vars(bn)
    # in inference mode the recomputed layer standardises the images it was computed on
    out = fixed.predict(images, verbose=0)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), [0.0, 0.0], atol=1e-4)
    var = images.var(axis=(0, 1, 2))
    np.testing.assert_allclose(out.var(axis=(0, 1, 2)), var / (var + bn.epsilon), rtol=1e-3)


def test_a_model_whose_input_is_a_list_gets_the_same_statistics_and_no_warning():
    """`keras.Model([inputs], ...)` (as the transfer models are saved) expects a list: fed a
    bare array, Keras warned on every batch that the input structure did not match."""
    images = _images()
    inputs = keras.Input((4, 4, 2))
    listed = keras.Model([inputs], keras.layers.BatchNormalization(name="bn")(inputs))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*structure of `inputs`")
        fixed = precise_bn(listed, images, batch_size=4, seed=7)
    plain = precise_bn(_bn_model(), images, batch_size=4, seed=7)
    for name in ("moving_mean", "moving_variance"):
        np.testing.assert_allclose(
            getattr(fixed.get_layer("bn"), name).numpy(),
            getattr(plain.get_layer("bn"), name).numpy(),
            rtol=1e-6,
        )


def test_several_batches_give_the_image_weighted_mean_of_the_batch_statistics():
    """Known answer, computed by hand with the same shuffle and batches (sizes 4, 3, 3: no
    batch of one): the mean is the exact mean; the variance is the mean of batch variances."""
    images = _images()
    fixed = precise_bn(_bn_model(), images, batch_size=4, seed=7)
    order = np.random.default_rng(7).permutation(len(images))
    batches = np.array_split(order, 3)
    assert [len(b) for b in batches] == [4, 3, 3]
    sizes = np.array([len(b) for b in batches], float)
    variances = np.array([images[b].var(axis=(0, 1, 2)) for b in batches])
    bn = fixed.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), images.mean(axis=(0, 1, 2)), rtol=1e-5)
    expected = (variances * sizes[:, None]).sum(0) / sizes.sum()
    np.testing.assert_allclose(bn.moving_variance.numpy(), expected, rtol=1e-5)
    assert not np.allclose(expected, images.var(axis=(0, 1, 2)), rtol=1e-3)  # a real difference


def test_dropout_stays_off_and_frozen_and_nested_batchnorm_layers_are_recomputed():
    images = _images(12)
    # dropout before BatchNorm: were it on, the statistics would be those of dropped pixels
    fixed = precise_bn(_bn_model(keras.layers.Dropout(0.8)), images, batch_size=64)
    np.testing.assert_allclose(
        fixed.get_layer("bn").moving_mean.numpy(), images.mean(axis=(0, 1, 2)), rtol=1e-5
    )
    # a frozen layer (a transfer model's backbone) is recomputed and stays frozen
    frozen = _bn_model()
    frozen.get_layer("bn").trainable = False
    fixed = precise_bn(frozen, images, batch_size=64)
    assert not fixed.get_layer("bn").trainable
    np.testing.assert_allclose(
        fixed.get_layer("bn").moving_mean.numpy(), images.mean(axis=(0, 1, 2)), rtol=1e-5
    )
    # a BatchNorm layer inside a nested model (keras.applications backbones are nested)
    inputs = keras.Input((4, 4, 2))
    inner = _bn_model()
    outer = keras.Model(inputs, keras.layers.Flatten()(inner(inputs)))
    fixed = precise_bn(outer, images, batch_size=64)
    nested = [layer for layer in fixed.layers if isinstance(layer, keras.Model)][0]
    np.testing.assert_allclose(
        nested.get_layer("bn").moving_mean.numpy(), images.mean(axis=(0, 1, 2)), rtol=1e-5
    )


def test_it_repairs_the_lagging_statistics_of_a_briefly_trained_model():
    """A CNN with BatchNorm fitted for 8 short epochs on synthetic faces: its moving averages
    (momentum 0.99, 152 steps) still lag, so in inference mode it scores near chance on
    held-out faces while it fits the training faces. PreciseBN on the training faces, with
    no training, brings held-out accuracy above 90%. Scrambled statistics are repaired too."""
    faces = load_dataset("synthetic", "train", "emo3", limit=600)
    held = load_dataset("synthetic", "publictest", "emo3", limit=300)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Conv2D(8, 3, use_bias=False)(inputs)
    x = keras.layers.ReLU()(keras.layers.BatchNormalization(name="bn1")(x))
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(16, 3, use_bias=False)(x)
    x = keras.layers.ReLU()(keras.layers.BatchNormalization(name="bn2")(x))
    x = keras.layers.Flatten()(keras.layers.MaxPooling2D(2)(x))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(faces.images, faces.labels, epochs=8, batch_size=32, verbose=0)

    def accuracy(m: keras.Model) -> float:
        return evaluate(m, held.images, held.labels, held.classes, False)["accuracy"]

    lagging = accuracy(model)
    repaired = accuracy(precise_bn(model, faces.images, batch_size=32))
    assert repaired > 0.9 and lagging < repaired - 0.2, (lagging, repaired)
    rng = np.random.default_rng(1)
    for name in ("bn1", "bn2"):
        bn = model.get_layer(name)
        bn.moving_mean.assign(rng.normal(0, 5, bn.moving_mean.shape).astype("float32"))
        bn.moving_variance.assign(rng.uniform(20, 50, bn.moving_variance.shape).astype("float32"))
    assert accuracy(precise_bn(model, faces.images, batch_size=32)) == pytest.approx(repaired)


def test_what_it_cannot_recompute_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="no BatchNormalization layer.*LayerNorm"):
        precise_bn(_small_cnn(), np.zeros((4, 48, 48, 1), "float32"))
    with pytest.raises(ValueError, match=r"shape \(N, 4, 4, 2\).*got shape \(3, 4, 4\)"):
        precise_bn(_bn_model(), np.zeros((3, 4, 4), "float32"))
    with pytest.raises(ValueError, match="got shape \\(0, 4, 4, 2\\)"):
        precise_bn(_bn_model(), np.zeros((0, 4, 4, 2), "float32"))
    with pytest.raises(ValueError, match=r"values in \[0, 1\]; got \[3, 255\].*Divide uint8"):
        precise_bn(_bn_model(), np.arange(64, dtype=np.uint8).reshape(2, 4, 4, 2) * 4 + 3)
    with pytest.raises(ValueError, match="batch_size must be at least 2"):
        precise_bn(_bn_model(), _images(), batch_size=1)


def test_soup_files_recomputes_one_models_statistics_on_the_training_rows(tmp_path):
    a = _run(tmp_path / "a", 1)
    card = soup_files([a], tmp_path / "out", "a_bn", data="synthetic", precise_bn=True)
    written = zoo.load(tmp_path / "out" / "a_bn.keras")
    full = load_dataset("synthetic", "train", "emo3")
    train_rows, val_rows = _split(full, TrainConfig(classes="emo3", data="synthetic"))
    expected = precise_bn(zoo.load(a), full.images[train_rows])
    for got, want in zip(written.get_weights(), expected.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(  # the statistics did change
        written.layers[2].moving_variance.numpy(), zoo.load(a).layers[2].moving_variance.numpy()
    )
    measured = evaluate(written, full.images[val_rows], full.labels[val_rows], full.classes, True)
    assert card["validation"]["accuracy"] == pytest.approx(measured["accuracy"])
    assert card["arch"] == "cnn (a, PreciseBN statistics)"
    assert card["training"].startswith("a's weights, BatchNorm statistics recomputed on the 1080")
    assert card["command"].endswith("--data synthetic --precise-bn")
    with pytest.raises(ValueError, match="--precise-bn recomputes .* needs --data"):
        soup_files([a], tmp_path / "o2", "x", precise_bn=True)
    with pytest.raises(ValueError, match="at least 2 models; got 1.*--precise-bn"):
        soup_files([a], tmp_path / "o2", "x", data="synthetic")
    assert not (tmp_path / "o2").exists()
