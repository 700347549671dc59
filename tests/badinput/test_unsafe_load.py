"""A .keras file with a Lambda layer through the CLI: refused by default with a message naming
--unsafe-load, explained (or indexed) with it; every command that loads a user's model has it."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from PIL import Image

from emolens.cli import build_parser, main
from emolens.explain.store import open_store
from tests.badinput.conftest import record

SIZE = 16


@pytest.fixture(scope="module")
def lambda_model(tmp_path_factory):
    """Input -> Lambda(2x) -> conv "feat" -> mean -> Dense(3), saved as lambda.keras + card."""
    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("unsafe_load")
    images = keras.Input((SIZE, SIZE, 1))
    doubled = keras.layers.Lambda(lambda t: t * 2.0)(images)
    acts = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="feat")(doubled)
    logits = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(acts))
    path = folder / "lambda.keras"
    keras.Model(images, logits).save(path)
    path.with_suffix(".json").write_text(json.dumps({"classes": ["angry", "happy", "sad"]}))
    return path


@pytest.fixture(scope="module")
def face_png(tmp_path_factory):
    pixels = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE), dtype=np.uint8)
    path = tmp_path_factory.mktemp("unsafe_face") / "face.png"
    Image.fromarray(pixels).save(path)
    return path


def _explain(model, png, out, *extra):
    argv = ["explain", str(png), "--model", str(model), "--no-detect", "--no-progress"]
    return main([*argv, "--format", "json", "--out", str(out), *extra])


def test_explain_refuses_a_lambda_model_naming_the_flag(lambda_model, face_png, tmp_path, capsys):
    assert _explain(lambda_model, face_png, tmp_path / "report") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("emolens explain: error: Model file")
    assert "Lambda layer" in lines[0] and "pass --unsafe-load" in lines[0]
    assert not (tmp_path / "report").exists()
    record("clear error")


def test_explain_runs_a_lambda_model_with_the_flag(lambda_model, face_png, tmp_path):
    out = tmp_path / "report"
    assert _explain(lambda_model, face_png, out, "--unsafe-load") == 0
    results = json.loads((out / "results.json").read_text())
    assert results["layers"] == {"grad_cam": "feat"}
    assert [face["file"] for face in results["faces"]] == [str(face_png)]
    record("graceful")


def test_index_refuses_then_indexes_a_lambda_model(lambda_model, tmp_path, capsys):
    store = tmp_path / "store"
    argv = ["index", "--model", str(lambda_model), "--data", "synthetic:8", "--classes", "emo3"]
    argv += ["--out", str(store)]
    assert main(argv) == 2
    assert "pass --unsafe-load" in capsys.readouterr().err
    assert not store.exists()
    assert main([*argv, "--unsafe-load"]) == 0
    assert len(open_store(store)) == 8
    record("graceful")


@pytest.mark.parametrize(
    "command",
    [
        "explain",
        "index",
        "evaluate",
        "predict",
        "export",
        "export-space",
        "demo",
        "dashboard",
        "train",  # its --init and --teacher files
    ],  # fmt: skip
)
def test_every_command_loading_a_user_model_has_the_flag(command):
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    flag = next(a for a in sub._actions if "--unsafe-load" in a.option_strings)
    assert flag.default is False and "only for files you trust" in flag.help
    assert "RUNS code" in flag.help


def test_train_refuses_then_starts_from_a_lambda_model(tmp_path, capsys):
    """--init names --unsafe-load in its refusal; train had no such flag before."""
    keras.utils.set_random_seed(0)
    images = keras.Input((48, 48, 1))
    doubled = keras.layers.Lambda(lambda t: t * 2.0)(images)
    acts = keras.layers.Conv2D(4, 3, strides=4, activation="relu", name="feat")(doubled)
    logits = keras.layers.Dense(3, name="logits")(keras.layers.GlobalAveragePooling2D()(acts))
    lambda_model = tmp_path / "lambda48.keras"
    keras.Model(images, keras.layers.Softmax(name="probs")(logits)).save(lambda_model)
    argv = ["train", "--data", "synthetic", "--limit", "64", "--epochs", "1", "--batch-size", "32"]
    argv += ["--init", str(lambda_model), "--out", str(tmp_path / "run"), "--no-tta"]
    assert main(argv) == 2
    assert "--unsafe-load" in capsys.readouterr().err
    assert main([*argv, "--unsafe-load", "--epochs", "2", "--stop-epoch", "1"]) == 0
    assert main([*argv, "--unsafe-load", "--epochs", "2"]) == 0  # resumes its Lambda checkpoint
    card = json.loads((tmp_path / "run" / "vgg_emo3.json").read_text())
    assert "--unsafe-load" in card["command"]  # the card's command reproduces the run
    assert card["training"].startswith("2 epochs")


def test_the_dashboard_loads_a_lambda_model_only_with_the_flag(lambda_model, monkeypatch):
    from emolens.commands.dashboard import dashboard_env
    from emolens.dashboard import loaders
    from emolens.dashboard.settings import read_settings

    def settings_of(*flags):
        args = build_parser().parse_args(["dashboard", "--model", str(lambda_model), *flags])
        monkeypatch.delenv("EMOLENS_DASHBOARD_UNSAFE_LOAD", raising=False)
        for key, value in dashboard_env(args, base={}).items():
            monkeypatch.setenv(key, value)
        return read_settings()

    loaders._load_model.clear()
    try:
        settings = settings_of()
        assert not settings.unsafe_load
        with pytest.raises(ValueError, match="Lambda layer.*pass --unsafe-load"):
            loaders.load_model(settings.user_model_label)
        settings = settings_of("--unsafe-load")
        assert settings.unsafe_load
        model = loaders.load_model(settings.user_model_label)
        assert model.class_names == ("angry", "happy", "sad")
    finally:
        loaders._load_model.clear()
    record("graceful")
