"""Training on synthetic faces: loss, card, command round trip, resume, transfer, reproduction."""

import json
import shlex
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pytest

from emolens.cli import build_parser, main, train_config
from emolens.models import train as train_module
from emolens.models import zoo
from emolens.models.train import TrainConfig, train

LIMIT = 240
CARD_KEYS = {"classes", "validation", "test", "params", "size_bytes", "command", "date"}


def _config(out, **changes) -> TrainConfig:
    """A tiny, fast, learnable run: 4k-parameter VGG on `LIMIT` synthetic emo3 faces."""
    base = TrainConfig(
        arch="vgg",
        classes="emo3",
        data="synthetic",
        out=str(out),
        name="tiny",
        epochs=2,
        batch_size=32,
        lr=1e-2,
        warmup_epochs=0,
        mix="none",
        augment=False,
        limit=LIMIT,
        test_split="publictest",
        arch_kwargs={"widths": [8, 16]},
    )
    return replace(base, **changes)


def _out(cfg: TrainConfig) -> Path:
    return Path(cfg.out)


def _weights(model: keras.Model) -> dict[str, list[np.ndarray]]:
    return {layer.name: [np.array(w) for w in layer.get_weights()] for layer in model.layers}


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One run shared by the tests below, trained as 1 epoch, then resumed to 2 epochs.

    Returns:
        (config of the 2-epoch call, card after epoch 1, card after epoch 2).
    """
    cfg = _config(tmp_path_factory.mktemp("train") / "tiny_run")
    first = train(replace(cfg, epochs=1), verbose=0)
    return cfg, first, train(cfg, verbose=0)


@pytest.fixture(scope="module")
def trained(run):
    """(config, card) of the finished 2-epoch run."""
    return run[0], run[2]


def test_training_lowers_the_loss(trained):
    cfg, card = trained
    state = json.loads((_out(cfg) / "state.json").read_text())
    losses = [entry["loss"] for entry in state["history"]]
    assert [entry["epoch"] for entry in state["history"]] == [1, 2]
    assert losses[-1] < losses[0], f"training loss did not fall: {losses}"
    assert state["done"] and state["epoch"] == 2
    assert card["history"] == state["history"]


def test_training_writes_a_valid_card(trained):
    cfg, card = trained
    out = _out(cfg)
    on_disk = json.loads((out / "tiny.json").read_text())
    assert on_disk == card
    assert CARD_KEYS <= set(card)
    assert card["classes"] == ["angry", "happy", "sad"]
    model_path = out / "tiny.keras"
    assert card["size_bytes"] == model_path.stat().st_size
    model = zoo.load(model_path)
    assert card["params"] == model.count_params()
    assert model.class_names == ("angry", "happy", "sad")
    for split, n in (("validation", LIMIT // 10), ("test", LIMIT)):
        metrics = card[split]
        assert metrics["n"] == n
        assert np.sum(metrics["confusion_matrix"]) == n
        assert 0.0 <= metrics["accuracy"] <= 1.0
    assert "synthetic" in card["data"] and "cleaned" not in card["data"]
    markdown = (out / "tiny.md").read_text()
    assert markdown.startswith("# tiny\n") and card["command"] in markdown
    assert {p.name for p in out.iterdir()} >= {
        "tiny.keras",
        "tiny.json",
        "tiny.md",
        "state.json",
        "checkpoint.keras",
        "best.weights.h5",
    }


def _parse_command(command: str) -> TrainConfig:
    argv = shlex.split(command)
    assert argv[:2] == ["emolens", "train"]
    return train_config(build_parser().parse_args(argv[1:]))


def test_card_command_parses_back_to_the_same_config(trained):
    cfg, card = trained
    assert _parse_command(card["command"]) == cfg


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"test_split": None, "augment": False, "tta": False, "lr": 3e-4},
        {"init": "runs/a b/x.keras", "freeze": True, "unfreeze_from": "block2_conv1_conv"},
        {"classes": "fer7", "data": None, "limit": None, "name": None, "weight_decay": 0.05},
        {"ferplus": 0.5, "label_smoothing": 0.0},
        {"time_limit": 480.0, "stop_epoch": 30},
        {"augment": True, "rotation": 0.04},
        {"precise_bn": True},
        {"swa_from": 2, "epochs": 4},
        {"sam": 0.05},
        {"seed": 3, "split_seed": 0},
    ],
)
def test_command_round_trips_any_config(changes, tmp_path):
    cfg = _config(tmp_path / "out dir", **changes)
    assert _parse_command(cfg.command()) == cfg


def test_evaluate_reproduces_the_cards_test_numbers_exactly(trained, tmp_path):
    cfg, card = trained
    result = tmp_path / "metrics.json"
    argv = ["evaluate", "--model", str(_out(cfg) / "tiny.keras"), "--data", "synthetic"]
    argv += ["--split", "publictest", "--limit", str(LIMIT), "--seed", str(cfg.seed)]
    assert main([*argv, "--out", str(result)]) == 0
    metrics = json.loads(result.read_text())
    assert metrics["n"] == card["test"]["n"] == LIMIT
    assert metrics["accuracy"] == card["test"]["accuracy"]
    assert metrics["confusion_matrix"] == card["test"]["confusion_matrix"]
    assert metrics["macro_f1"] == card["test"]["macro_f1"]
    assert metrics["per_class_recall"] == card["test"]["per_class_recall"]


def test_resume_continues_without_redoing_epochs(run, monkeypatch):
    cfg, first, second = run
    assert [entry["epoch"] for entry in first["history"]] == [1]
    assert "1 epochs (best 1)" in first["training"]
    assert [entry["epoch"] for entry in second["history"]] == [1, 2]
    assert second["history"][0] == first["history"][0]  # epoch 1 was not redone
    assert second["history"][1]["loss"] != first["history"][0]["loss"]
    assert "2 epochs" in second["training"]
    # The resumed optimizer decays over the new length (not stuck at the 1-epoch floor).
    checkpoint = keras.saving.load_model(_out(cfg) / "checkpoint.keras", safe_mode=True)
    steps = (LIMIT - LIMIT // 10) // cfg.batch_size
    schedule = checkpoint.optimizer._learning_rate.get_config()
    assert schedule["decay_steps"] == cfg.epochs * steps
    assert int(checkpoint.optimizer.iterations) == cfg.epochs * steps

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(train_module, "TrainBatches", no_training)
    third = train(cfg, verbose=0)
    assert third["history"] == second["history"]
    assert third["validation"] == second["validation"]
    assert third["test"] == second["test"]


def test_split_seed_keeps_the_validation_set_while_seed_changes_the_training(run, tmp_path):
    from emolens.explain.data import load_dataset
    from emolens.models.evaluate import evaluate

    cfg, first, _ = run  # seed 0: its first epoch
    sibling = replace(cfg, out=str(tmp_path / "sibling"), epochs=1, seed=5, split_seed=0)
    card = train(sibling, verbose=0)
    assert card["split"].startswith(train_module.split_text(cfg.val_fraction, 0))
    full = load_dataset("synthetic", "train", "emo3", clean=True, limit=LIMIT, seed=0)
    _, val_rows = train_module._split(full, cfg)
    _, other_rows = train_module._split(full, replace(cfg, seed=5))
    assert not np.array_equal(val_rows, other_rows)  # --seed alone would move the split
    model = zoo.load(tmp_path / "sibling" / "tiny.keras")
    again = evaluate(model, full.images[val_rows], full.labels[val_rows], full.classes, cfg.tta)
    assert again["accuracy"] == card["validation"]["accuracy"]
    assert again["confusion_matrix"] == card["validation"]["confusion_matrix"]
    # Another seed trained another model: the first epoch's loss differs from seed 0's.
    assert card["history"][0]["loss"] != first["history"][0]["loss"]
    assert "--seed 5 --split-seed 0" in card["command"]


def _spy_on_build(monkeypatch) -> dict:
    """Record the weights of the model `train` builds, before any training."""
    seen = {}
    real_build = train_module._build

    def spy(*args, **kwargs):
        model = real_build(*args, **kwargs)
        seen["initial"] = _weights(model)
        seen["trainable"] = {layer.name: layer.trainable for layer in model.layers}
        return model

    monkeypatch.setattr(train_module, "_build", spy)
    return seen


def test_time_limit_stops_before_an_epoch_that_would_not_fit_and_a_rerun_continues(
    tmp_path, monkeypatch
):
    ticks = iter(range(0, 10_000, 10))  # every epoch takes 10 s on this clock
    monkeypatch.setattr(train_module, "_clock", lambda: float(next(ticks)))
    cfg = _config(tmp_path / "cut", epochs=4, time_limit=25)
    card = train(cfg, verbose=0)  # after epoch 2: 20 s + 10 s would pass 25 s
    state = json.loads((_out(cfg) / "state.json").read_text())
    assert state["epoch"] == 2 and not state["done"]
    assert card["training"].startswith("2 epochs (best ")
    assert "of a 4-epoch schedule, cut by --time-limit 25s, batch 32" in card["training"]
    assert (_out(cfg) / "tiny.keras").stat().st_size == card["size_bytes"]
    assert "--time-limit 25" in card["command"]
    card = train(replace(cfg, time_limit=None), verbose=0)  # continues the same schedule
    assert [entry["epoch"] for entry in card["history"]] == [1, 2, 3, 4]
    assert card["training"].startswith("4 epochs (best ") and "cut by" not in card["training"]
    assert json.loads((_out(cfg) / "state.json").read_text())["done"]


def test_transfer_with_freeze_trains_only_the_new_head(trained, tmp_path, monkeypatch):
    cfg, _ = trained
    source_path = _out(cfg) / "tiny.keras"
    source = _weights(zoo.load(source_path))
    seen = _spy_on_build(monkeypatch)
    transfer = _config(tmp_path / "transfer", name="transfer", epochs=1, test_split=None)
    train(replace(transfer, init=str(source_path), freeze=True), verbose=0)

    result = _weights(zoo.load(tmp_path / "transfer" / "transfer.keras"))
    assert not _same(seen["initial"]["logits"], source["logits"])  # a fresh head
    assert not _same(result["logits"], seen["initial"]["logits"])  # that was trained
    backbone = [name for name in result if name not in ("logits", "probs")]
    assert any(result[name] for name in backbone)
    for name in backbone:
        assert _same(result[name], source[name]), f"frozen layer {name} changed"
        assert seen["trainable"][name] is False


def test_unfreeze_from_trains_from_that_layer_on(trained, tmp_path, monkeypatch):
    cfg, _ = trained
    source_path = _out(cfg) / "tiny.keras"
    source = _weights(zoo.load(source_path))
    seen = _spy_on_build(monkeypatch)
    finetune = _config(tmp_path / "finetune", name="finetune", epochs=1, test_split=None)
    train(replace(finetune, init=str(source_path), unfreeze_from="block2_conv1_conv"), verbose=0)

    result = _weights(zoo.load(tmp_path / "finetune" / "finetune.keras"))
    names = list(result)
    start = names.index("block2_conv1_conv")
    assert _same(seen["initial"]["logits"], source["logits"])  # same classes: head kept
    for name in names[:start]:
        assert _same(result[name], source[name]), f"layer {name} before the cut changed"
    for name in ("block2_conv1_conv", "block2_conv2_conv", "block2_conv2_bn", "logits"):
        assert not _same(result[name], source[name]), f"layer {name} was not trained"
        assert seen["trainable"][name] is True


def test_unknown_unfreeze_from_names_the_layers(trained, tmp_path):
    cfg, _ = trained
    source_path = str(_out(cfg) / "tiny.keras")
    bad = _config(tmp_path / "bad", init=source_path, unfreeze_from="block9_conv")
    with pytest.raises(ValueError, match=r"'block9_conv' is not a layer of .*Layers: image, "):
        train(bad, verbose=0)
    assert not (tmp_path / "bad" / "state.json").exists()


def test_a_finished_run_without_its_best_weights_is_not_silently_retrained(trained, tmp_path):
    import shutil

    cfg, _ = trained
    copy = tmp_path / "copy"
    shutil.copytree(_out(cfg), copy)
    (copy / "best.weights.h5").unlink()
    with pytest.raises(FileNotFoundError, match="best.weights.h5 is missing"):
        train(replace(cfg, out=str(copy)), verbose=0)
    assert json.loads((copy / "state.json").read_text())["epoch"] == cfg.epochs


def test_a_cut_run_without_its_checkpoint_is_not_silently_restarted(trained, tmp_path):
    import shutil

    cfg, _ = trained
    copy = tmp_path / "copy"
    shutil.copytree(_out(cfg), copy)
    (copy / "checkpoint.keras").unlink()
    longer = replace(cfg, out=str(copy), epochs=cfg.epochs + 1)  # would resume at epoch 3
    with pytest.raises(
        FileNotFoundError, match="checkpoint.keras is missing.*--stop-epoch 2.*--init"
    ):
        train(longer, verbose=0)
    assert json.loads((copy / "state.json").read_text())["epoch"] == cfg.epochs
    # The hint works: --stop-epoch at the cut writes the model from best.weights.h5.
    saved = copy / "tiny.keras"
    saved.unlink()
    train(replace(longer, stop_epoch=cfg.epochs), verbose=0)
    restored = keras.saving.load_model(saved, safe_mode=True)
    best = zoo.build(cfg.arch, 3, (48, 48, 1), **cfg.arch_kwargs)
    best.load_weights(copy / "best.weights.h5")
    for a, b in zip(restored.weights, best.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_ferplus_blends_vote_shares_into_the_targets():
    from emolens.explain.data import Dataset

    votes = np.array(
        [
            [0, 6, 0, 0, 4, 0, 0, 0, 0, 0],  # happiness 6, anger 4
            [3, 0, 0, 0, 0, 0, 7, 0, 0, 0],  # no vote on angry/happy/sad: label kept
            [-1] * 10,  # unknown row: label kept
        ],
        dtype=np.int16,
    )
    full = Dataset(
        np.zeros((3, 4, 4, 1), np.float32),
        np.array([1, 0, 2]),
        ("angry", "happy", "sad"),
        {"ferplus_votes": votes},
    )
    cfg = TrainConfig(ferplus=0.5)
    targets = train_module._targets(full, np.arange(3), cfg)
    np.testing.assert_allclose(targets, [[0.2, 0.8, 0.0], [1, 0, 0], [0, 0, 1]], atol=1e-6)
    assert train_module._targets(full, np.arange(3), TrainConfig())[0].tolist() == [0, 1, 0]


def test_ferplus_on_data_without_votes_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="--ferplus needs FERPlus votes.*--ferplus 0"):
        train(_config(tmp_path / "run", ferplus=0.3), verbose=0)


def _teacher_copy(trained, tmp_path, classes) -> str:
    """The trained tiny model saved under tmp_path with a card naming `classes`."""
    import shutil

    cfg, card = trained
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "teacher.keras"
    shutil.copy(_out(cfg) / "tiny.keras", path)
    path.with_suffix(".json").write_text(json.dumps({**card, "classes": classes}))
    return str(path)


def test_distillation_targets_blend_the_teachers_flip_tta_probabilities(
    trained, tmp_path, monkeypatch
):
    from emolens.models.evaluate import predict_probs
    from emolens.models.train import _distilled, teacher_probs

    cfg, _ = trained
    images = np.random.default_rng(0).random((5, 48, 48, 1), dtype=np.float32)
    classes = ("angry", "happy", "sad")
    expected = predict_probs(zoo.load(_out(cfg) / "tiny.keras"), images, tta_flip=True)
    same = _teacher_copy(trained, tmp_path, list(classes))
    np.testing.assert_allclose(teacher_probs(same, images, classes), expected, atol=1e-6)
    # Two teachers average; a teacher with its classes in another order is read by name.
    permuted = _teacher_copy(trained, tmp_path / "p", ["sad", "angry", "happy"])
    got = teacher_probs(f"{same}, {permuted}", images, classes)
    np.testing.assert_allclose(got, (expected + expected[:, [1, 2, 0]]) / 2, atol=1e-6)
    onehot = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1]]
    distill = replace(cfg, teacher=same, distill=0.25)
    blended = _distilled(onehot, images, classes, distill, tmp_path)
    np.testing.assert_allclose(blended, 0.75 * onehot + 0.25 * expected, atol=1e-6)
    # A resumed run reads the teachers' probabilities back instead of recomputing them ...
    assert [p.name for p in tmp_path.glob("*teacher_probs*")] == ["teacher_probs.npz"]

    def no_teacher(name, **options):
        raise AssertionError(f"teacher {name} was loaded again")

    monkeypatch.setattr(zoo, "load", no_teacher)
    np.testing.assert_array_equal(_distilled(onehot, images, classes, distill, tmp_path), blended)
    # ... but not when the teachers changed: other names, or the same file rewritten (here
    # its card, which orders the classes).
    with pytest.raises(AssertionError, match="loaded again"):
        _distilled(onehot, images, classes, replace(distill, teacher=permuted), tmp_path)
    card = Path(same).with_suffix(".json")
    card.write_text(Path(permuted).with_suffix(".json").read_text())
    with pytest.raises(AssertionError, match="loaded again"):
        _distilled(onehot, images, classes, distill, tmp_path)


def test_distillation_errors_say_what_to_do(trained, tmp_path):
    from emolens.models.train import teacher_probs

    images = np.zeros((2, 48, 48, 1), np.float32)
    wrong = _teacher_copy(trained, tmp_path, ["angry", "happy", "fear"])
    with pytest.raises(ValueError, match=r"does not predict \['sad'\].*student's classes"):
        teacher_probs(wrong, images, ("angry", "happy", "sad"))
    with pytest.raises(ValueError, match=r"--teacher ' , ' names no model\. Give MODEL"):
        teacher_probs(" , ", images, ("angry", "happy", "sad"))
    with pytest.raises(ValueError, match="needs both --teacher .* and --distill W"):
        train(_config(tmp_path / "run", distill=0.5), verbose=0)
    assert not (tmp_path / "run" / "state.json").exists()


def test_a_distilled_run_says_so_on_its_card(trained, tmp_path):
    """The card's training line names the teacher, its weight and the CutMix share (before,
    a distilled run's card read like a plain one)."""
    teacher = _teacher_copy(trained, tmp_path / "teacher", ["angry", "happy", "sad"])
    cfg = _config(tmp_path / "run", epochs=1, teacher=teacher, distill=0.3, mix="cutmix")
    card = train(replace(cfg, mix_prob=0.25), verbose=0)
    assert "mix cutmix on 25% of batches, augment False" in card["training"]
    assert card["training"].endswith(
        f", targets blended with {teacher}'s flip-TTA probabilities (weight 0.3)"
    )
    assert "mix none, augment" in trained[1]["training"]
    assert "targets blended" not in trained[1]["training"]


def _rotations(model: keras.Model) -> list[float]:
    """Factors of the RandomRotation layers inside `model`'s augmentation."""
    pipeline = model.get_layer("augmentation")
    return [
        layer.factor for layer in pipeline.layers if isinstance(layer, keras.layers.RandomRotation)
    ]


@pytest.mark.parametrize(("rotation", "degrees"), [(0.04, 14), (0.0, 0)])
def test_rotation_reaches_the_augmentation_and_the_card(rotation, degrees, tmp_path):
    """--rotation sets RandomRotation's factor (0 leaves the layer out); the card says it in
    degrees. Before the flag, every run rotated by up to 36 degrees."""
    cfg = _config(tmp_path / "run", epochs=1, augment=True, rotation=rotation)
    card = train(cfg, verbose=0)
    wrapper = keras.saving.load_model(_out(cfg) / "checkpoint.keras")
    assert _rotations(wrapper) == ([(-rotation, rotation)] if rotation else [])
    assert f"augment True (rotation up to {degrees} degrees)" in card["training"]


@pytest.mark.parametrize("rotation", [-0.1, 0.6])
def test_rotation_outside_a_half_turn_is_refused_before_anything_is_written(rotation, tmp_path):
    with pytest.raises(ValueError, match=r"--rotation is a fraction of a full turn in \[0, 0.5\]"):
        train(_config(tmp_path / "run", augment=True, rotation=rotation), verbose=0)
    assert not (tmp_path / "run").exists()


def test_sam_steps_train_resume_as_sam_and_say_so_on_the_card(tmp_path, monkeypatch):
    """--sam sets the step on the new wrapper and again on the one loaded to resume (a saved
    model keeps Keras's own step); the card names it."""
    calls = []
    real = train_module.use_sam

    def spy(model, rho):
        calls.append((model.name, rho))
        real(model, rho)

    monkeypatch.setattr(train_module, "use_sam", spy)
    cfg = _config(tmp_path / "run", sam=0.05, stop_epoch=1)
    train(cfg, verbose=0)
    card = train(replace(cfg, stop_epoch=None), verbose=0)
    assert calls == [("train_wrapper", 0.05), ("train_wrapper", 0.05)]
    assert [row["epoch"] for row in card["history"]] == [1, 2]
    assert "AdamW lr 0.01 cosine, SAM steps (rho 0.05), label smoothing" in card["training"]
    assert card["history"][-1]["loss"] < card["history"][0]["loss"]


def test_a_negative_sam_radius_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match=r"rho \(--sam\) is >= 0 .*got -0.05"):
        train(_config(tmp_path / "run", sam=-0.05), verbose=0)
    assert not (tmp_path / "run").exists()


def test_distillation_flags_round_trip_through_the_card_command(tmp_path):
    cfg = _config(tmp_path / "run", teacher="a.keras,b", distill=0.7)
    args = build_parser().parse_args(shlex.split(cfg.command())[1:])
    assert train_config(args) == cfg


def test_precise_bn_recomputes_the_best_models_batchnorm_statistics(trained, tmp_path):
    """Finishing the trained run again with --precise-bn (no epoch is redone): the written
    model is the best weights with PreciseBN statistics over the run's own training rows."""
    import shutil

    from emolens.explain.data import load_dataset
    from emolens.models.precise_bn import precise_bn
    from emolens.models.train import _split

    cfg, card = trained
    shutil.copytree(_out(cfg), tmp_path / "run")
    again = replace(cfg, out=str(tmp_path / "run"), precise_bn=True)
    new = train(again, verbose=0)
    assert new["history"] == card["history"]
    full = load_dataset("synthetic", "train", "emo3", limit=LIMIT, seed=cfg.seed)
    train_rows, _ = _split(full, cfg)
    plain = zoo.load(_out(cfg) / "tiny.keras")
    expected = precise_bn(plain, full.images[train_rows], batch_size=cfg.batch_size)
    written = zoo.load(tmp_path / "run" / "tiny.keras")
    for got, want in zip(written.get_weights(), expected.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    bn = [
        layer.name for layer in plain.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert bn and not np.allclose(
        written.get_layer(bn[0]).moving_mean.numpy(), plain.get_layer(bn[0]).moving_mean.numpy()
    )
    assert new["training"].endswith(
        "TTA flip True, then BatchNorm statistics recomputed on the training images (PreciseBN)"
    )
    assert "--precise-bn" in new["command"] and _parse_command(new["command"]) == again


def test_swa_averages_the_kept_epochs_then_recomputes_batchnorm(tmp_path):
    """--swa-from 2 on a 3-epoch run, cut after epoch 2 and resumed: the model written is the
    mean of epochs 2 and 3's weights (each file is that epoch's base model, the last one equal
    to the final checkpoint's) with PreciseBN statistics over the run's training rows."""
    from emolens.explain.data import load_dataset
    from emolens.models.precise_bn import precise_bn
    from emolens.models.train import _split, swa_file

    cfg = _config(tmp_path / "swa", epochs=3, swa_from=2)
    cut = train(replace(cfg, stop_epoch=2), verbose=0)
    assert "then the weights of epochs 2-2 averaged (SWA)" in cut["training"]
    card = train(cfg, verbose=0)
    out = _out(cfg)
    assert sorted(p.name for p in out.glob("swa.*")) == [swa_file(2), swa_file(3)]
    assert [entry["epoch"] for entry in card["history"]] == [1, 2, 3]

    def epoch_model(epoch):
        model = zoo.load(out / "tiny.keras")
        model.load_weights(out / swa_file(epoch))
        return model

    second, third = epoch_model(2), epoch_model(3)
    state = json.loads((out / "state.json").read_text())
    final = keras.saving.load_model(out / "checkpoint.keras").get_layer(state["base_name"])
    assert all(_same(third.get_layer(k).get_weights(), v) for k, v in _weights(final).items())
    assert not _same(second.get_weights(), third.get_weights())
    mean = [(a + b) / 2 for a, b in zip(second.get_weights(), third.get_weights(), strict=True)]
    averaged = keras.models.clone_model(second)
    averaged.set_weights(mean)
    full = load_dataset("synthetic", "train", "emo3", limit=LIMIT, seed=cfg.seed)
    train_rows, _ = _split(full, cfg)
    expected = precise_bn(averaged, full.images[train_rows], batch_size=cfg.batch_size)
    written = zoo.load(out / "tiny.keras")
    for got, want in zip(written.get_weights(), expected.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert card["training"].startswith("3 epochs, batch 32,")  # no "(best N)": not chosen
    assert card["training"].endswith(
        "TTA flip True, then the weights of epochs 2-3 averaged (SWA), then BatchNorm "
        "statistics recomputed on the training images (PreciseBN)"
    )
    assert "--swa-from 2" in card["command"] and _parse_command(card["command"]) == cfg
    with pytest.raises(FileNotFoundError, match=r"kept there: \[2, 3\]; give --swa-from 2 or"):
        train(replace(cfg, swa_from=1), verbose=0)


def test_swa_from_past_the_last_epoch_is_refused_before_anything_is_written(tmp_path):
    cfg = _config(tmp_path / "never", epochs=4, stop_epoch=3, swa_from=4)
    with pytest.raises(ValueError, match=r"--swa-from 4 is past this run's last epoch \(3\)"):
        train(cfg, verbose=0)
    assert not _out(cfg).exists()


def test_swa_on_a_run_that_kept_no_epochs_names_what_is_there(trained, tmp_path):
    import shutil

    from emolens.models.train import swa_average

    cfg, _ = trained
    model = zoo.load(_out(cfg) / "tiny.keras")
    with pytest.raises(ValueError, match=r"stopped after epoch 2 .*--swa-from 2 or less"):
        swa_average(model, _out(cfg), 3, 2)  # an early stop before --swa-from's epoch
    shutil.copytree(_out(cfg), tmp_path / "run")
    with pytest.raises(FileNotFoundError, match=r"missing: swa.epoch1.weights.h5.*kept no epoch"):
        train(replace(cfg, out=str(tmp_path / "run"), swa_from=1), verbose=0)


@pytest.mark.parametrize(
    "epochs, warmup, words, last_lr",
    [
        (3, 1, "AdamW lr 0.001 cosine", 1e-5),
        (1, 1, "AdamW lr warming up linearly from 5e-05 to 0.001 over the whole run", 1e-3),
        (1, 2, "AdamW lr warming up linearly from 5e-05 to 0.000525 over the whole run", 5.25e-4),
    ],
)
def test_the_card_names_the_learning_rates_the_schedule_gives(epochs, warmup, words, last_lr):
    """A run that is all warm-up (`--epochs 1 --warmup-epochs 1`) never reaches the cosine;
    its card says so, and the ramp's ends are the schedule's own values."""
    cfg = _config("unused", epochs=epochs, warmup_epochs=warmup, lr=1e-3)
    assert train_module._lr_text(cfg).startswith(words)
    assert ("no cosine phase" in train_module._lr_text(cfg)) == (warmup >= epochs)
    schedule = train_module._schedule(cfg, steps_per_epoch=10)
    assert float(schedule(0)) == pytest.approx(5e-5 if warmup else 1e-3, rel=1e-5)
    assert float(schedule(epochs * 10)) == pytest.approx(last_lr, rel=1e-4)
