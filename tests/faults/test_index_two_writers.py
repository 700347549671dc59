"""Two `emolens index` processes on one store: while one writes, the other refuses with a
one-line message naming the store and exits 2, touching nothing; the store then equals a single
uninterrupted run (shards byte-identical, manifest equal but for its dates)."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emolens.explain.store import open_store
from tests.explain.store.helpers import index_args, run_cli, tiny_model_file

ROOT = Path(__file__).resolve().parents[2]
COUNT = 24  # 3 shards of 8
DATES = ("created", "completed")

# `emolens index` that, after its first shard, signals `held` and waits for `release`.
HOLDER = """
import json, sys, time
from pathlib import Path
from emolens.explain.store import writer

held, release, argv = json.loads(sys.argv[1])
write_shard = writer.write_shard
def patched(*args, **kwargs):
    write_shard(*args, **kwargs)
    if not Path(held).exists():
        Path(held).write_text("1")
        deadline = time.monotonic() + 300
        while not Path(release).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
writer.write_shard = patched
from emolens.cli import main
sys.exit(main(argv))
"""


def _files(store: Path) -> dict[str, bytes]:
    return {
        p.relative_to(store).as_posix(): p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _assert_same_store(store: Path, reference: Path) -> None:
    got, want = _files(store), _files(reference)
    assert got.keys() == want.keys()
    for name, content in want.items():
        if name.endswith(".json"):
            strip = lambda b: {k: v for k, v in json.loads(b).items() if k not in DATES}  # noqa: E731
            assert strip(got[name]) == strip(content), name
        else:
            assert got[name] == content, f"{name} differs"
    assert len(open_store(store)) == COUNT


@pytest.fixture(scope="module")
def model_and_reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two_writers")
    model = tiny_model_file(folder)
    assert run_cli(index_args(model, folder / "reference", COUNT)) == 0
    return model, folder / "reference"


def _cli(argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "emolens", *argv]


def test_a_second_process_is_refused_while_the_first_writes(tmp_path, model_and_reference):
    model, reference = model_and_reference
    store, held, release = tmp_path / "store", tmp_path / "held", tmp_path / "release"
    argv = index_args(model, store, COUNT)
    first = subprocess.Popen(
        [sys.executable, "-c", HOLDER, json.dumps([str(held), str(release), argv])],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not held.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held.exists(), first.communicate()[1]
        before = _files(store)
        second = subprocess.run(_cli(argv), cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert second.returncode == 2, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("emolens index: error: Another process is writing store")
        assert str(store) in lines[0] and "Wait for it to finish" in lines[0]
        assert _files(store) == before  # the refused run touched nothing
    finally:
        release.write_text("1")
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    _assert_same_store(store, reference)


def test_two_processes_started_at_once_leave_one_whole_store(tmp_path, model_and_reference):
    model, reference = model_and_reference
    store = tmp_path / "store"
    argv = index_args(model, store, COUNT)
    runs = [
        subprocess.Popen(_cli(argv), cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results  # 0, 0: the second came after the first finished
    for code, err in results:
        if code == 2:
            assert "Another process is writing store" in err, err
    _assert_same_store(store, reference)
