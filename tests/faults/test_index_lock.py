"""The store lock on every exit: a failed `emolens index` leaves no .lock and no partial files
(a new store is removed whole), an interrupted one keeps only whole shards, and the lock file a
SIGKILLed run left behind (or one from another host) is taken over with a warning."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emolens.explain.store import index, open_store, writer
from emolens.models import zoo
from tests.explain.store.helpers import index_args, run_cli, tiny_model_file

ROOT = Path(__file__).resolve().parents[2]
COUNT = 24  # 3 shards of 8

# `emolens index` that, after its first shard, signals `held` and sleeps (to be SIGKILLed).
HOLDER = """
import json, sys, time
from pathlib import Path
from emolens.explain.store import writer

held, argv = json.loads(sys.argv[1])
write_shard = writer.write_shard
def patched(*args, **kwargs):
    write_shard(*args, **kwargs)
    Path(held).write_text("1")
    time.sleep(300)
writer.write_shard = patched
from emolens.cli import main
sys.exit(main(argv))
"""


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("lock"))


def _left(store: Path) -> list[str]:
    return sorted(p.relative_to(store).as_posix() for p in store.rglob("*"))


def test_an_error_after_the_lock_is_taken_leaves_no_store(tmp_path, model_file, capsys):
    store = tmp_path / "store"
    # the CAM layer is resolved inside the lock (it is part of the plan)
    assert run_cli(index_args(model_file, store, COUNT, "--layer", "nope")) == 2
    assert "nope" in capsys.readouterr().err
    assert not store.exists()


def test_an_error_in_the_first_shard_removes_everything_it_wrote(tmp_path, model_file, monkeypatch):
    store = tmp_path / "store"
    store.mkdir()  # the user's empty folder stays, empty

    def broken(store, plan, shard, *args, **kwargs):
        (store / "shards").mkdir(exist_ok=True)
        (store / "shards" / "00000.embeddings.npy").write_bytes(b"whole but orphaned")
        (store / "shards" / f".00000.grad_cam.npy.{os.getpid()}.tmp").write_bytes(b"half")
        raise RuntimeError("model blew up")

    monkeypatch.setattr(writer, "write_shard", broken)
    with pytest.raises(RuntimeError, match="blew up"):
        index(zoo.load(model_file), f"synthetic:{COUNT}", out=store, classes="emo3", shard_size=8)
    assert _left(store) == []


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("os.pwrite", OSError(28, "No space left on device")),  # writing the holder record
        ("_same_file", OSError(116, "Stale file handle")),  # NFS, after the flock
    ],
)
def test_a_lock_that_fails_after_the_flock_is_released_and_leaves_no_store(
    tmp_path, model_file, monkeypatch, where, error
):
    """A failure between taking the flock and returning the lock (a full disk, a stale NFS
    handle): before, the open handle leaked, so the process kept the flock (its next try at
    the store was refused as another process) and the folder stayed."""
    from emolens.explain.store import _lock

    store = tmp_path / "store"

    def failing(*args):
        raise error

    with monkeypatch.context() as patch:
        patch.setattr(_lock.os if where == "os.pwrite" else _lock, where.split(".")[-1], failing)
        with pytest.raises(OSError, match=error.strerror):
            index(
                zoo.load(model_file), f"synthetic:{COUNT}", out=store, classes="emo3", shard_size=8
            )
    if where == "os.pwrite":  # the file is known to be ours: removed with the new folder
        assert not store.exists()
    else:  # whose file it is cannot be checked: an empty .lock stays, its flock released
        assert _left(store) == [".lock"] and not (store / ".lock").read_bytes()
    # the same process tries again (a notebook, the dashboard): a leaked flock refused it
    index(zoo.load(model_file), f"synthetic:{COUNT}", out=store, classes="emo3", shard_size=8)
    assert len(open_store(store)) == COUNT and not (store / ".lock").exists()


def test_ctrl_c_keeps_whole_shards_and_no_lock_and_the_rerun_finishes(
    tmp_path, model_file, monkeypatch
):
    store = tmp_path / "store"
    write_shard = writer.write_shard

    def interrupted(store, plan, shard, *args, **kwargs):
        if shard == 1:
            (store / "shards" / ".00001.embeddings.npy.x.tmp").write_bytes(b"half")
            raise KeyboardInterrupt
        write_shard(store, plan, shard, *args, **kwargs)

    monkeypatch.setattr(writer, "write_shard", interrupted)
    model = zoo.load(model_file)
    with pytest.raises(KeyboardInterrupt):
        index(model, f"synthetic:{COUNT}", out=store, classes="emo3", shard_size=8)
    left = _left(store)
    assert ".lock" not in left and not [name for name in left if name.endswith(".tmp")]
    assert "plan.json" in left and "shards/00000.parquet" in left
    assert "shards/00001.parquet" not in left and "manifest.json" not in left
    monkeypatch.setattr(writer, "write_shard", write_shard)
    assert len(index(model, f"synthetic:{COUNT}", out=store, classes="emo3", shard_size=8)) == COUNT
    assert not (store / ".lock").exists()


def test_a_sigkilled_runs_lock_names_it_then_is_taken_over(tmp_path, model_file):
    store, held = tmp_path / "store", tmp_path / "held"
    argv = index_args(model_file, store, COUNT)
    first = subprocess.Popen(
        [sys.executable, "-c", HOLDER, json.dumps([str(held), argv])],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not held.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held.exists(), first.communicate()[1]
        record = json.loads((store / ".lock").read_text())
        assert record["pid"] == first.pid and record["host"] == socket.gethostname()
        with pytest.raises(ValueError, match=f"pid {first.pid} on this host since "):
            index(zoo.load(model_file), f"synthetic:{COUNT}", out=store, classes="emo3")
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
    assert (store / ".lock").is_file()  # SIGKILL gave it no chance to clean up
    rerun = subprocess.run(
        [sys.executable, "-m", "emolens", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"Took over the lock of store {str(store)!r} left by pid {first.pid}" in rerun.stderr
    assert "is no longer running" in rerun.stderr
    assert not (store / ".lock").exists()
    assert len(open_store(store)) == COUNT


def test_a_lock_file_from_another_host_is_taken_over_when_free(tmp_path, model_file):
    store = tmp_path / "store"
    store.mkdir()
    record = {"pid": 4242, "host": "elsewhere", "started": "2026-01-01T00:00:00+00:00"}
    (store / ".lock").write_text(json.dumps(record))
    with pytest.warns(UserWarning, match="left by pid 4242 on host 'elsewhere' since 2026-01-01"):
        done = index(zoo.load(model_file), "synthetic:8", out=store, classes="emo3")
    assert len(done) == 8
    assert not (store / ".lock").exists()
