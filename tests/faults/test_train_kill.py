"""Kill `emolens train` with SIGKILL at six points (mid-epoch twice, inside a checkpoint write,
before state.json, between state.json and the checkpoint's rename, before the card) and rerun the
same command each time: after every kill each file under its final name loads whole, and the
resumed run trains every epoch exactly once and finishes with a whole card, bit-identical to an
uninterrupted run: the same weights, optimizer variables, history and card numbers."""

import json
import subprocess
import sys
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from emolens.cli import main

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 6
ARGV = [
    "train",
    "--arch",
    "vgg",
    "--arch-kwargs",
    '{"widths": [4, 8]}',
    "--classes",
    "emo3",
    "--data",
    "synthetic",
    "--limit",
    "120",
    "--batch-size",
    "16",
    "--lr",
    "0.01",
    "--warmup-epochs",
    "0",
    "--mix",
    "none",
    "--no-augment",
    "--test-split",
    "none",
    "--patience",
    "100",
    "--name",
    "tiny",
    "--epochs",
    str(EPOCHS),
]

# Runs `emolens train` in a child process that SIGKILLs itself at a chosen point.
KILLER = """
import json, os, signal, sys
from pathlib import Path
from emolens.models import train

mode, count, argv = json.loads(sys.argv[1])
calls = [0]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def hit():
    calls[0] += 1
    return calls[0] == count

if mode == "mid_epoch":  # inside the `count`-th batch this run draws
    getitem = train.TrainBatches.__getitem__
    def patched(self, index):
        if hit():
            die()
        return getitem(self, index)
    train.TrainBatches.__getitem__ = patched
elif mode == "inside_checkpoint":  # half-way through the `count`-th checkpoint of this run
    atomic_save = train._atomic_save
    def patched(save, path):
        if path.name.startswith("checkpoint.") and hit():
            tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
            save(str(tmp))
            with open(tmp, "r+b") as file:
                file.truncate(tmp.stat().st_size // 2)
            die()
        atomic_save(save, path)
    train._atomic_save = patched
elif mode in ("before_state", "after_state"):  # around the `count`-th state.json
    write_state = train._write_state
    def patched(out, state):
        last = hit()
        if last and mode == "before_state":
            die()
        write_state(out, state)
        if last:
            die()  # before the pending checkpoint is renamed
    train._write_state = patched
elif mode == "before_card":
    def patched(*args, **kwargs):
        die()
    train.write_card = patched

from emolens.cli import main
sys.exit(main(argv))
"""


def _killed_run(mode: str, count: int, out: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", KILLER, json.dumps([mode, count, [*ARGV, "--out", str(out)]])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == -9, f"expected SIGKILL, got {result.returncode}: {result.stderr}"


def _final_files(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_file() and not p.name.startswith(".tmp-"))


def _assert_every_final_file_is_whole(out: Path) -> None:
    for path in _final_files(out):
        if path.suffix == ".keras":
            keras.saving.load_model(path, safe_mode=True)
        elif path.suffix == ".h5":
            with h5py.File(path, "r") as file:
                assert len(file.keys()) > 0
        elif path.suffix == ".json":
            json.loads(path.read_text())
        else:
            assert path.suffix == ".md", path


def _state(out: Path) -> dict:
    return json.loads((out / "state.json").read_text())


def _weights(path: Path) -> list[np.ndarray]:
    model = keras.saving.load_model(path, safe_mode=True)
    arrays = [np.array(v) for v in model.weights]
    if model.optimizer is not None:
        arrays += [np.array(v) for v in model.optimizer.variables]
    return arrays


@pytest.mark.slow
def test_killed_training_resumes_to_the_uninterrupted_run(tmp_path):
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    assert main([*ARGV, "--out", str(reference)]) == 0

    _killed_run("mid_epoch", 10, resumed)  # epoch 2 (7 batches an epoch)
    assert _state(resumed)["epoch"] == 1
    _assert_every_final_file_is_whole(resumed)
    _killed_run("before_state", 1, resumed)  # epoch 2 saved as pending, state says 1
    assert _state(resumed)["epoch"] == 1
    assert (resumed / "checkpoint.epoch2.keras").is_file()
    _assert_every_final_file_is_whole(resumed)
    _killed_run("after_state", 1, resumed)  # epoch 2 redone; state says 2, rename cut
    assert _state(resumed)["epoch"] == 2
    assert (resumed / "checkpoint.epoch2.keras").is_file()
    _assert_every_final_file_is_whole(resumed)
    _killed_run("inside_checkpoint", 2, resumed)  # epoch 3 whole, cut inside epoch 4's save
    assert _state(resumed)["epoch"] == 3
    assert list(resumed.glob(".tmp-*checkpoint.epoch4.keras"))  # the cut write, never read
    _assert_every_final_file_is_whole(resumed)
    (resumed / ".state.json.k1ll3d.tmp").write_text('{"epoch": ')  # atomic_file's, cut
    _killed_run("mid_epoch", 3, resumed)  # early in epoch 4
    assert _state(resumed)["epoch"] == 3
    assert not list(resumed.glob(".tmp-*"))  # the rerun removed the cut write
    assert not list(resumed.glob(".*.tmp"))
    _killed_run("before_card", 1, resumed)  # epochs 4-6 and tiny.keras, no card
    assert _state(resumed)["epoch"] == EPOCHS and not _state(resumed).get("done")
    assert not (resumed / "tiny.json").exists()
    _assert_every_final_file_is_whole(resumed)

    assert main([*ARGV, "--out", str(resumed)]) == 0
    names = [p.name for p in _final_files(reference)]
    assert [p.name for p in _final_files(resumed)] == names
    assert "checkpoint.keras" in names and not list(resumed.glob("checkpoint.epoch*"))
    ref_state, res_state = _state(reference), _state(resumed)
    assert [h["epoch"] for h in res_state["history"]] == list(range(1, EPOCHS + 1))
    assert res_state["history"][0] == ref_state["history"][0]  # before the first kill
    # Every epoch ran exactly once: none twice (a checkpoint ahead of state.json) or skipped.
    steps = int(_optimizer_iterations(reference / "checkpoint.keras"))
    assert steps == EPOCHS * 6
    assert int(_optimizer_iterations(resumed / "checkpoint.keras")) == steps
    # Bit-identical: dropout's SeedGenerator states come back from state.json (a .keras file
    # does not keep them) and the batch order comes from the seed alone (fit(shuffle=False)).
    ref, res = _weights(reference / "checkpoint.keras"), _weights(resumed / "checkpoint.keras")
    assert [a.shape for a in ref] == [b.shape for b in res]
    for a, b in zip(ref, res, strict=True):
        np.testing.assert_array_equal(b, a)
    assert res_state["history"] == ref_state["history"]
    assert res_state["seed_states"] == ref_state["seed_states"]
    ref_card = json.loads((reference / "tiny.json").read_text())
    res_card = json.loads((resumed / "tiny.json").read_text())
    volatile = ("training_time_s", "date", "size_bytes", "command")  # command: its --out
    assert {k: v for k, v in res_card.items() if k not in volatile} == {
        k: v for k, v in ref_card.items() if k not in volatile
    }


def _optimizer_iterations(path: Path) -> int:
    return int(keras.saving.load_model(path, safe_mode=True).optimizer.iterations.numpy())
