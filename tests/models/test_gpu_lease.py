"""The GPU-lease kit (models/gpu/) rehearsed without a GPU: pack_data keeps exactly what
`emolens train` loads, and lease.sh trains its schedule on Keras's JAX backend and leaves one
tar per run (model, card, state, log) and its log in $OUT."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from emolens.explain.data import load_dataset

ROOT = Path(__file__).resolve().parents[2]


def _pack_data():
    spec = importlib.util.spec_from_file_location("pack_data", ROOT / "models/gpu/pack_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_fer2013(root: Path) -> None:
    rng = np.random.default_rng(0)
    (root / "fer2013").mkdir(parents=True)
    for name, n in (("train.npz", 70), ("publictest.npz", 21)):
        np.savez_compressed(
            root / "fer2013" / name,
            x=rng.integers(0, 256, (n, 48, 48), dtype=np.uint8),
            y=np.arange(n) % 7,
            orig_index=np.where(np.arange(n) == 3, -1, np.arange(n)),
            ferplus_votes=rng.integers(0, 10, (n, 10)).astype(np.int16),
            paths=np.array([f"p{i}.png" for i in range(n)]),
        )


@pytest.mark.parametrize("classes", ["emo3", "fer7"])
def test_pack_data_keeps_what_training_loads(tmp_path, classes):
    _fake_fer2013(tmp_path / "data")
    kept = _pack_data().pack(tmp_path / "data", tmp_path / "d.tar.xz", classes)
    assert kept == (
        {"train.npz": 30, "publictest.npz": 9}
        if classes == "emo3"
        else {"train.npz": 70, "publictest.npz": 21}
    )
    with tarfile.open(tmp_path / "d.tar.xz") as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    assert not list(tmp_path.glob(".*.tmp"))
    for split in ("train", "publictest"):  # as `emolens train` loads them (--clean)
        a = load_dataset(tmp_path / "data", split, classes, clean=True)
        b = load_dataset(tmp_path / "unpacked", split, classes, clean=True)
        assert len(b) == kept[f"{split}.npz"] - 1  # the orig_index -1 row is dropped
        np.testing.assert_array_equal(a.images, b.images)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.extras["ferplus_votes"], b.extras["ferplus_votes"])


def test_pack_data_names_a_missing_folder_and_leaves_no_temp_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="pass the folder holding fer2013/"):
        _pack_data().pack(tmp_path, tmp_path / "d.tar.xz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install .[dev])"
)
def test_lease_trains_the_schedule_and_packs_one_tar_per_run(tmp_path):
    schedule = tmp_path / "schedule.sh"
    schedule.write_text(
        "run tiny --arch lenet --classes emo3 --epochs 2 --limit 160 --batch-size 32\n"
        "run skipped --arch lenet --classes emo3 --epochs 2 --limit 160\n"
    )
    env = {
        **os.environ,
        "PY": sys.executable,
        "SCHEDULE": str(schedule),
        "DATA": "synthetic",
        "WHEELS": str(tmp_path / "no-wheels"),  # this Python's own packages
        "OUT": str(tmp_path / "out"),
        "WORK": str(tmp_path / "work"),
    }

    def lease(name: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "models/gpu/lease.sh", "400", name],
            cwd=ROOT,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
        )

    # exits at once (a bare `wait` would hang on the log's tee); SCHEDULE relative to the repo
    # root, as the README writes it, although lease.sh runs its schedule from WORK
    misspelt = lease("tinny", SCHEDULE=os.path.relpath(schedule, ROOT))
    assert misspelt.returncode == 2, misspelt.stdout[-2000:]
    assert "No such file" not in misspelt.stdout, misspelt.stdout[-2000:]
    assert "no run started: the names asked for (tinny) are not in the schedule" in misspelt.stdout
    proc = lease("tiny")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["lease.log", "tiny.tar"]  # names pick runs
    log = (out / "lease.log").read_text()
    assert "tiny exit 0: tiny: accuracy" in log and "done in" in log
    with tarfile.open(out / "tiny.tar") as tar:
        names = set(tar.getnames())
        assert names == {
            "tiny.log",
            *(f"tiny/{f}" for f in ("tiny.keras", "tiny.json", "tiny.md", "state.json")),
        }
        card = json.load(tar.extractfile("tiny/tiny.json"))
    assert card["backend"] == "jax" and "--time-limit" in card["command"]
    assert card["training"].startswith("2 epochs (best ") and "cut by" not in card["training"]


def test_pack_init_halves_the_weights_and_loads_as_the_same_model(tmp_path):
    """A halved --init copy: float16 on disk, float32 variables once loaded, the same
    predictions to float16 rounding, about half the bytes."""
    import keras

    spec = importlib.util.spec_from_file_location("pack_init", ROOT / "models/gpu/pack_init.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Conv2D(32, 3, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    model.layers[1].set_weights(
        [
            w + np.random.default_rng(1).normal(0, 0.3, w.shape)
            for w in model.layers[1].get_weights()
        ]
    )
    model(np.zeros((1, 48, 48, 1), np.float32))
    big = keras.Sequential(
        [keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(64)]
    )
    for name, m in (("small", model), ("big", big)):
        m.save(tmp_path / f"{name}.keras")
    size = module.halve(tmp_path / "big.keras", tmp_path / "big_half.keras")
    assert size < 0.6 * (tmp_path / "big.keras").stat().st_size
    module.halve(tmp_path / "small.keras", tmp_path / "small_half.keras")
    loaded = keras.saving.load_model(tmp_path / "small_half.keras")
    assert all(w.dtype == "float32" for w in loaded.weights)
    faces = np.random.default_rng(0).random((8, 48, 48, 1), dtype=np.float32)
    np.testing.assert_allclose(
        loaded.predict(faces, verbose=0), model.predict(faces, verbose=0), atol=2e-3
    )
    assert not np.array_equal(loaded.layers[1].get_weights()[0], model.layers[1].get_weights()[0])
    with pytest.raises(ValueError, match="not a .keras file"):
        module.halve(ROOT / "README.md", tmp_path / "x.keras")
    assert not list(tmp_path.glob(".*.tmp"))
