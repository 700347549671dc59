"""Weight averaging (models/soup.py, `emolens soup`): known answers on tiny models, refusals
that name the problem, and the written model and card."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from emolens.cli import main
from emolens.explain.data import load_dataset
from emolens.models import zoo
from emolens.models.cards import write_card
from emolens.models.evaluate import evaluate
from emolens.models.soup import average_weights, greedy_average, soup_files
from emolens.models.train import _split
from emolens.models.train_config import TrainConfig


def _cnn(seed: int, classes: int = 3) -> keras.Model:
    """Conv, BatchNorm (with moving statistics set apart from the defaults), Dropout, Dense."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    model = keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x))
    rng = np.random.default_rng(seed)
    noise = [rng.normal(0, 0.5, w.shape).astype(w.dtype) for w in model.get_weights()]
    model.set_weights([w + n for w, n in zip(model.get_weights(), noise, strict=True)])
    model.get_layer(index=2).moving_variance.assign(rng.uniform(0.5, 2.0, 4).astype("float32"))
    return model


def test_every_weight_is_the_mean_and_the_inputs_are_untouched():
    models = [_cnn(seed) for seed in (1, 2, 3)]
    before = [m.get_weights() for m in models]
    soup = average_weights(models)
    assert soup is not models[0]
    for k, w in enumerate(soup.get_weights()):
        np.testing.assert_allclose(w, np.mean([b[k] for b in before], axis=0), rtol=1e-6)
    for model, weights in zip(models, before, strict=True):
        for a, b in zip(model.get_weights(), weights, strict=True):
            np.testing.assert_array_equal(a, b)
    # the BatchNorm moving variance is a weight like any other: averaged, not reset
    bn = soup.get_layer(index=2)
    np.testing.assert_allclose(
        bn.moving_variance.numpy(),
        np.mean([m.get_layer(index=2).moving_variance.numpy() for m in models], axis=0),
        rtol=1e-6,
    )


def test_a_linear_models_soup_predicts_the_mean_of_its_ingredients():
    """Known answer: a Dense layer's output is linear in its weights."""
    images = np.random.default_rng(0).random((5, 6)).astype("float32")
    models = []
    for seed in (4, 5):
        keras.utils.set_random_seed(seed)
        inputs = keras.Input((6,))
        model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
        model.layers[1].bias.assign(np.random.default_rng(seed).normal(0, 1, 3))
        models.append(model)
    soup = average_weights(models)
    expected = np.mean([m.predict(images, verbose=0) for m in models], axis=0)
    np.testing.assert_allclose(soup.predict(images, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_a_soup_of_one_model_with_itself_predicts_as_it_does():
    model = _cnn(7)
    images = np.random.default_rng(1).random((4, 48, 48, 1)).astype("float32")
    soup = average_weights([model, model])
    np.testing.assert_allclose(
        soup.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6
    )


def test_different_architectures_and_too_few_models_are_refused():
    with pytest.raises(ValueError, match="differs from model 1 .* at weight"):
        average_weights([_cnn(1, classes=3), _cnn(2, classes=7)])
    inputs = keras.Input((48, 48, 1))
    flat = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="has 2 weight arrays and model 1 .* different arch"):
        average_weights([_cnn(1), flat])
    with pytest.raises(ValueError, match="at least 2 models; got 1"):
        average_weights([_cnn(1)])


def _run(folder: Path, seed: int, class_set: str = "emo3", split_seed: int = 0, model=None) -> Path:
    """A model file (`model`, else `_cnn(seed)`) with a card, as `emolens train` leaves them."""
    model = model or _cnn(seed, classes=3 if class_set == "emo3" else 7)
    folder.mkdir(parents=True)
    path = folder / f"{folder.name}.keras"
    model.save(path)
    write_card(
        path.with_suffix(""),
        {
            "name": folder.name,
            "arch": "cnn (from runs/base/base.keras)",
            "class_set": class_set,
            "classes": list(zoo.class_names(class_set)),
            "input_shape": [48, 48, 1],
            "data": "synthetic",
            "split": f"Training minus a 10% stratified validation split (seed {split_seed}): "
            "1080 train / 120 val",
            "test_split": "publictest",
            "training": "2 epochs",
            "validation": None,
            "test": None,
            "params": model.count_params(),
            "size_bytes": path.stat().st_size,
            "training_time_s": 1.0,
            "command": "emolens train ...",
            "date": "2026-12-04",
        },
    )
    return path


def test_soup_files_writes_the_average_and_a_card_with_measured_metrics(tmp_path):
    a, b = _run(tmp_path / "a", 1), _run(tmp_path / "b", 2)
    card = soup_files([a, b], tmp_path / "out", "ab_soup", data="synthetic")
    written = tmp_path / "out" / "ab_soup.keras"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "ab_soup.json",
        "ab_soup.keras",
        "ab_soup.md",
    ]  # and no temp file
    soup = zoo.load(written)
    for k, w in enumerate(soup.get_weights()):
        mean = np.mean([zoo.load(p).get_weights()[k] for p in (a, b)], axis=0)
        np.testing.assert_allclose(w, mean, rtol=1e-6)
    # the card's numbers are the model's, measured on the ingredients' validation rows
    full = load_dataset("synthetic", "train", "emo3")
    _, rows = _split(full, TrainConfig(classes="emo3", data="synthetic"))
    expected = evaluate(soup, full.images[rows], full.labels[rows], full.classes, True)
    assert card["validation"]["n"] == len(rows) == 120
    assert card["validation"]["accuracy"] == pytest.approx(expected["accuracy"])
    test = load_dataset("synthetic", "publictest", "emo3")
    assert card["test"]["n"] == len(test)
    assert card["arch"] == "cnn (weight average of a, b)"
    assert card["data"] == "synthetic" and card["latency_ms_cpu"] > 0
    assert [i["name"] for i in card["ingredients"]] == ["a", "b"]
    assert json.loads((tmp_path / "out" / "ab_soup.json").read_text()) == card
    assert zoo.load_card(written)["command"].startswith(f"emolens soup --models {a},{b} ")


def test_soup_files_refuses_what_it_cannot_average_and_writes_nothing(tmp_path):
    a, b = _run(tmp_path / "a", 1), _run(tmp_path / "b", 2)
    seven = _run(tmp_path / "f", 3, class_set="fer7")
    other_split = _run(tmp_path / "s", 4, split_seed=1)
    bare = tmp_path / "bare.keras"
    _cnn(5).save(bare)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="different class sets \\(emo3, fer7\\)"):
        soup_files([a, seven], out, "x")
    with pytest.raises(ValueError, match="bare.keras' has no model card"):
        soup_files([a, bare], out, "x")
    with pytest.raises(ValueError, match="validated on .*seed 1.*Pass its --val-fraction"):
        soup_files([a, other_split], out, "x", data="synthetic")
    with pytest.raises(ValueError, match="--name must be a plain file name"):
        soup_files([a, b], out, "sub/x")
    assert not out.exists()


def test_the_soup_command_writes_the_model_and_reports_a_bad_input_in_one_line(tmp_path, capsys):
    a, b = _run(tmp_path / "a", 1), _run(tmp_path / "b", 2)
    out = tmp_path / "out"
    assert main(["soup", "--models", f"{a},{b}", "--out", str(out), "--name", "s"]) == 0
    printed = capsys.readouterr().out
    assert "uniform average of the weights of 2 models (a, b)" in printed
    assert (out / "s.keras").is_file() and (out / "s.md").is_file()
    assert main(["soup", "--models", str(a), "--out", str(out), "--name", "t"]) == 2
    assert "at least 2 models; got 1" in capsys.readouterr().err
    assert not (out / "t.keras").exists()


def _linear(kernel: float) -> keras.Model:
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1, use_bias=False)(inputs))
    model.set_weights([np.full((2, 1), kernel, np.float32)])
    return model


def test_greedy_average_keeps_a_model_only_when_the_score_does_not_fall():
    """Known answer: score = closeness of the single kernel value to 1.0. Alone: 1.4 scores
    best, then 0.4, 3.0; 1.4 with 0.4 averages to 0.9 (better: kept), with 3.0 as well to
    1.6 (worse than 0.9: dropped)."""
    models = [_linear(0.4), _linear(3.0), _linear(1.4)]

    def score(model: keras.Model) -> float:
        return -abs(float(model.get_weights()[0][0, 0]) - 1.0)

    seen = []
    soup, steps = greedy_average(models, score, on_step=seen.append)
    assert seen == steps  # reported as decided, in order
    assert [(s["index"], s["kept"]) for s in steps] == [(2, True), (0, True), (1, False)]
    assert [s["alone"] for s in steps] == pytest.approx([-0.4, -0.6, -2.0])
    assert [s["score"] for s in steps] == pytest.approx([-0.4, -0.1, -0.6])
    np.testing.assert_allclose(soup.get_weights()[0], 0.9, rtol=1e-6)


def test_greedy_average_of_models_that_only_hurt_is_the_best_one_alone():
    models = [_linear(5.0), _linear(1.2)]
    soup, steps = greedy_average(models, lambda m: -abs(float(m.get_weights()[0][0, 0]) - 1))
    assert [s["kept"] for s in steps] == [True, False]
    assert soup is not models[1]
    np.testing.assert_allclose(soup.get_weights()[0], 1.2, rtol=1e-6)


def _small_cnn() -> keras.Model:
    """Two conv-pool stages and a dense head: learns the synthetic faces in a few epochs."""
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(16, 3, activation="relu")(x)
    x = keras.layers.Flatten()(keras.layers.MaxPooling2D(2)(x))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


def test_greedy_soup_files_drops_a_model_that_lowers_validation_accuracy(tmp_path):
    """A model fitted on synthetic faces, a copy of it within 1e-5 (a tie, which is kept) and an
    untrained one: the greedy soup keeps the first two; its validation accuracy is at least the
    best alone."""
    faces = load_dataset("synthetic", "train", "emo3", limit=600)
    keras.utils.set_random_seed(0)
    good = _small_cnn()
    good.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    good.fit(faces.images, faces.labels, epochs=6, batch_size=32, verbose=0)
    rng = np.random.default_rng(3)
    near = [w + rng.normal(0, 1e-5, w.shape).astype(w.dtype) for w in good.get_weights()]
    raw = _small_cnn()  # untrained: its own random start
    paths = {}
    for name, weights in (("good", good.get_weights()), ("near", near), ("raw", None)):
        model = keras.models.clone_model(good)
        model.set_weights(weights or raw.get_weights())
        paths[name] = _run(tmp_path / name, 1, model=model)
    lines = []
    card = soup_files(
        list(paths.values()),
        tmp_path / "out",
        "g",
        data="synthetic",
        greedy=True,
        progress=lines.append,
    )
    assert [line.split(":")[0].strip() for line in lines] == [
        "kept good",
        "kept near",
        "dropped raw",
    ]
    steps = {i["name"]: i for i in card["ingredients"]}
    assert steps["good"]["kept"] and steps["near"]["kept"] and not steps["raw"]["kept"], steps
    assert card["arch"] == "cnn (weight average of good, near)", card["ingredients"]
    assert card["training"].startswith("greedy weight average") and "2 of 3" in card["training"]
    best_alone = max(i["alone"] for i in card["ingredients"])
    assert best_alone > 0.5  # the fitted model learned something
    assert card["validation"]["accuracy"] >= best_alone
    assert card["command"].endswith("--greedy")
    with pytest.raises(ValueError, match="--greedy .* needs --data"):
        soup_files(list(paths.values()), tmp_path / "out2", "g", greedy=True)
