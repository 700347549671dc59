"""The `emolens` CLI: help, exit codes and one-line errors that say how to fix the problem."""

import json
from pathlib import Path

import keras
import pytest

from emolens.cli import EXIT_USAGE, build_parser, main
from emolens.models import zoo
from emolens.models.cards import write_card

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, f"expected one line on stderr, got:\n{err}"
    assert err.startswith(f"emolens {command}: error: ")
    return err


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A random tiny emo3 VGG saved without a card."""
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("cli") / "tiny.keras"
    zoo.build("vgg", "emo3", (48, 48, 1), widths=(4,)).save(path)
    return path


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("train", "evaluate", "data", "soup"):
        assert f"    {command} " in out or f"    {command}\n" in out, out
    assert "{train,evaluate,data" in out


def test_a_subcommand_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == EXIT_USAGE
    assert "required: command" in capsys.readouterr().err


def test_train_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--arch", "--classes", "--data", "--epochs", "--init", "--freeze", "--no-tta"):
        assert flag in out


def test_evaluate_unknown_model_exits_2_naming_it(capsys):
    assert main(["evaluate", "--model", "no_such_model", "--limit", "8"]) == EXIT_USAGE
    err = _one_line_error(capsys, "evaluate")
    assert "Unknown model 'no_such_model'" in err
    assert "Bundled models:" in err


def test_evaluate_missing_file_exits_2(capsys, tmp_path):
    missing = tmp_path / "gone.keras"
    assert main(["evaluate", "--model", str(missing)]) == EXIT_USAGE
    assert "gone.keras' not found" in _one_line_error(capsys, "evaluate")


def test_evaluate_without_a_card_asks_for_the_class_set(capsys, tiny_model):
    assert main(["evaluate", "--model", str(tiny_model), "--limit", "8"]) == EXIT_USAGE
    err = _one_line_error(capsys, "evaluate")
    assert "has no card" in err and "Pass --classes" in err


def test_evaluate_with_classes_prints_the_table_and_writes_json(capsys, tiny_model, tmp_path):
    result = tmp_path / "metrics.json"
    argv = ["evaluate", "--model", str(tiny_model), "--classes", "emo3", "--limit", "12"]
    assert main([*argv, "--no-tta", "--out", str(result)]) == 0
    out = capsys.readouterr().out
    metrics = json.loads(result.read_text())
    assert metrics["n"] == 12 and metrics["tta_flip"] is False
    assert metrics["data"] == "synthetic" and metrics["split"] == "publictest"
    assert f"images 12  accuracy {metrics['accuracy']:.4f}" in out
    assert "happy" in out
    assert f"model {tiny_model} (" in out  # names the model asked for, then its architecture


def test_evaluate_feeds_the_models_input_range(capsys, tmp_path):
    """--input-range reaches the model (before, evaluate had no such flag and a model trained
    on 0..255 was scored on [0, 1] pixels without a word)."""
    import numpy as np

    from emolens.explain.data import load_dataset
    from emolens.models.evaluate import evaluate
    from tests.toy_models import linear_pixel_model

    weights = np.random.default_rng(0).normal(0, 0.01, (3, 48, 48, 1)).astype(np.float32)
    tiny_model = tmp_path / "linear.keras"  # the bias wins on [0, 1], the pixels on 0..255
    linear_pixel_model(weights, np.array([3.0, 0.0, 0.0], np.float32)).save(tiny_model)
    result = tmp_path / "metrics.json"
    argv = ["evaluate", "--model", str(tiny_model), "--classes", "emo3", "--limit", "24"]
    assert main([*argv, "--input-range", "0,255", "--no-tta", "--out", str(result)]) == 0
    data = load_dataset("synthetic", "publictest", "emo3", limit=24, seed=0)
    raw = keras.saving.load_model(tiny_model)
    expected = evaluate(raw, data.images * 255.0, data.labels, data.classes, False)
    got = json.loads(result.read_text())
    unscaled = evaluate(raw, data.images, data.labels, data.classes, False)
    assert unscaled["confusion_matrix"] != expected["confusion_matrix"]  # the range matters
    assert got["confusion_matrix"] == expected["confusion_matrix"]
    assert got["accuracy"] == pytest.approx(expected["accuracy"])


def test_evaluate_with_the_wrong_class_set_says_which_to_pick(capsys, tmp_path):
    path = tmp_path / "fer7.keras"
    zoo.build("vgg", "fer7", (48, 48, 1), widths=(4,)).save(path)
    argv = ["evaluate", "--model", str(path), "--classes", "emo3", "--limit", "8"]
    assert main(argv) == EXIT_USAGE
    err = _one_line_error(capsys, "evaluate")
    assert "outputs 7 classes but the data has 3 (angry, happy, sad)" in err
    assert "Pick the matching --classes" in err


def test_synthetic_faces_cannot_be_fer7(capsys, tiny_model):
    argv = ["evaluate", "--model", str(tiny_model), "--classes", "fer7", "--limit", "8"]
    assert main(argv) == EXIT_USAGE
    assert "Synthetic faces cannot draw 'disgust'" in _one_line_error(capsys, "evaluate")


def test_update_card_without_a_card_is_an_error_not_a_silent_no_op(capsys, tiny_model):
    argv = ["evaluate", "--model", str(tiny_model), "--classes", "emo3", "--update-card"]
    assert main([*argv, "--limit", "8"]) == EXIT_USAGE
    assert "--update-card needs a model card" in _one_line_error(capsys, "evaluate")


def test_update_card_stores_the_metrics(capsys, tiny_model, tmp_path):
    path = tmp_path / "carded.keras"
    path.write_bytes(tiny_model.read_bytes())
    card = {
        "name": "carded",
        "arch": "vgg",
        "class_set": "emo3",
        "classes": ["angry", "happy", "sad"],
        "input_shape": [48, 48, 1],
        "data": "synthetic",
        "split": "all",
        "validation": None,
        "test": None,
        "params": 1,
        "size_bytes": path.stat().st_size,
        "training_time_s": 0.0,
        "command": "emolens train",
        "date": "2026-01-01",
    }
    write_card(path.with_suffix(""), card)
    assert main(["evaluate", "--model", str(path), "--limit", "9", "--update-card"]) == 0
    updated = json.loads(path.with_suffix(".json").read_text())
    assert updated["test"]["n"] == 9 and updated["test_split"] == "publictest"
    assert updated["latency_ms_cpu"] > 0
    assert "- images: 9" in path.with_suffix(".md").read_text()


def test_train_with_a_missing_data_folder_says_how_to_fix_it(capsys, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--data", "/nonexistent", "--out", str(out)]) == EXIT_USAGE
    err = _one_line_error(capsys, "train")
    assert "'/nonexistent'" in err
    assert "emolens data download fer2013" in err


def test_train_rejects_bad_arch_kwargs(capsys, tmp_path):
    argv = ["train", "--data", "synthetic", "--out", str(tmp_path), "--arch-kwargs", "{widths"]
    assert main(argv) == EXIT_USAGE
    assert "--arch-kwargs must be a JSON object" in _one_line_error(capsys, "train")


def test_train_unknown_architecture_lists_the_known_ones(capsys, tmp_path):
    argv = ["train", "--arch", "vgg99", "--data", "synthetic", "--limit", "30"]
    assert main([*argv, "--out", str(tmp_path / "run")]) == EXIT_USAGE
    err = _one_line_error(capsys, "train")
    assert "Unknown architecture 'vgg99'. Available: alexnet" in err


def test_data_download_only_knows_fer2013(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["data", "download", "imagenet"])
    assert exit_info.value.code == EXIT_USAGE
    assert "invalid choice: 'imagenet'" in capsys.readouterr().err


@pytest.mark.skipif(
    not (SHARED_DATA / "fer2013" / "publictest.npz").is_file(),
    reason=f"FER2013 not found at {SHARED_DATA}/fer2013 (run `emolens data download fer2013`)",
)
def test_evaluate_on_a_seeded_fer2013_subset_is_repeatable(capsys, tiny_model, tmp_path):
    runs = []
    for i in range(2):
        result = tmp_path / f"fer{i}.json"
        argv = ["evaluate", "--model", str(tiny_model), "--classes", "emo3"]
        argv += ["--data", str(SHARED_DATA), "--limit", "64", "--seed", "3"]
        assert main([*argv, "--out", str(result)]) == 0
        runs.append(json.loads(result.read_text()))
    assert runs[0]["n"] == 64
    assert runs[0] == runs[1]
