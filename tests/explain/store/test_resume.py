"""Kill `emolens index` with SIGKILL at several points, rerun it, and get the same store as an
uninterrupted run: shard and class-mean files byte-identical, manifest equal but for its dates.
No file under its final name is ever half-written, and an unfinished store does not open."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from emolens.explain.store import open_store
from tests.explain.store.helpers import index_args, run_cli, tiny_model_file

ROOT = Path(__file__).resolve().parents[3]
COUNT = 40  # 5 shards of 8
DATES = ("created", "completed")

# Runs `emolens index` in a child process that SIGKILLs itself at a chosen point.
KILLER = """
import json, os, signal, sys
from emolens.explain.store import _shard, writer
from emolens.explain._atomic import atomic_file

mode, count, argv = json.loads(sys.argv[1])
calls = [0]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if mode == "after_shards":  # after `count` whole shards of this run
    write_shard = writer.write_shard
    def patched(*args, **kwargs):
        write_shard(*args, **kwargs)
        calls[0] += 1
        if calls[0] == count:
            die()
    writer.write_shard = patched
elif mode == "inside_array":  # half-way through writing the `count`-th array file
    save_array = _shard._save_array
    def patched(path, array):
        calls[0] += 1
        if calls[0] < count:
            return save_array(path, array)
        with atomic_file(path, "wb") as file:
            file.write(b"\\x93NUMPY" + bytes(100))
            file.flush()
            os.fsync(file.fileno())
            die()
    _shard._save_array = patched
elif mode == "before_manifest":
    write_text = writer.atomic_write_text
    def patched(path, text):
        if path.name == "manifest.json":
            die()
        write_text(path, text)
    writer.atomic_write_text = patched

from emolens.cli import main
sys.exit(main(argv))
"""


def _killed_run(mode: str, count: int, argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", KILLER, json.dumps([mode, count, argv])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == -9, f"expected SIGKILL, got {result.returncode}: {result.stderr}"


def _final_files(store: Path) -> dict[str, bytes]:
    """Every file under its final name (no lock, no temp file), by path in the store."""
    return {
        p.relative_to(store).as_posix(): p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and p.name != ".lock" and not p.name.endswith(".tmp")
    }


def _assert_every_final_file_is_whole(store: Path) -> None:
    for name in _final_files(store):
        path = store / name
        if name.endswith(".npy"):
            np.load(path)  # raises on a truncated array
        elif name.endswith(".parquet"):
            assert pq.read_table(path).num_rows > 0
        else:
            json.loads(path.read_text())


def _complete_shards(store: Path) -> list[int]:
    return sorted(int(p.name[:5]) for p in (store / "shards").glob("*.parquet"))


def _without_dates(path: Path) -> dict:
    return {k: v for k, v in json.loads(path.read_text()).items() if k not in DATES}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


def test_killed_runs_resume_to_the_uninterrupted_store(tmp_path, model_path):
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    assert run_cli(index_args(model_path, reference, COUNT, "--method", "grad_cam,saliency")) == 0
    argv = index_args(model_path, resumed, COUNT, "--method", "grad_cam,saliency")

    _killed_run("after_shards", 1, argv)
    assert _complete_shards(resumed) == [0]
    _killed_run("after_shards", 1, argv)  # the rerun skips shard 0 and dies after shard 1
    assert _complete_shards(resumed) == [0, 1]
    _killed_run("inside_array", 2, argv)  # shard 2: embeddings written, dies inside its maps
    assert _complete_shards(resumed) == [0, 1]
    assert (resumed / "shards" / "00002.embeddings.npy").is_file()
    assert not (resumed / "shards" / "00002.grad_cam.npy").exists()
    assert list((resumed / "shards").glob(".00002.grad_cam.npy.*.tmp"))  # the cut write
    _killed_run("after_shards", 2, argv)  # shards 2 and 3
    assert _complete_shards(resumed) == [0, 1, 2, 3]
    assert not list(resumed.rglob("*.tmp"))  # the rerun removed the cut write's temp file
    _killed_run("before_manifest", 0, argv)
    assert _complete_shards(resumed) == [0, 1, 2, 3, 4]
    assert not (resumed / "manifest.json").exists()
    _assert_every_final_file_is_whole(resumed)
    with pytest.raises(ValueError, match="unfinished"):
        open_store(resumed)

    assert run_cli(argv) == 0
    assert _final_files(resumed).keys() == _final_files(reference).keys()
    for name, content in _final_files(reference).items():
        if not name.endswith(".json"):
            assert _final_files(resumed)[name] == content, f"{name} differs"
    for name in ("manifest.json", "plan.json"):
        assert _without_dates(resumed / name) == _without_dates(reference / name)
    assert len(open_store(resumed)) == COUNT
