"""A full disk (ENOSPC) and a read-only folder (EROFS) under `emolens index` and `emolens
explain`: a one-line error naming the cause, exit code not 0, and earlier results untouched.

Real faults, not mocks: a 4 MB tmpfs is mounted (needs root and mount permission; skipped
otherwise), filled up with a filler file, then remounted read-only (which stops root too)."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emolens.cli import main
from emolens.explain.store import open_store
from tests.explain.store.helpers import index_args, tiny_model_file


def _mount(args: list[str]) -> bool:
    return subprocess.run(args, capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)]):
        pytest.skip("cannot mount a tmpfs here (needs root and mount permission)")
    try:
        yield disk
    finally:
        if not _mount(["umount", str(disk)]):  # busy: a failed run left a file open on it
            _mount(["umount", "--lazy", str(disk)])
            pytest.fail(f"umount {disk} failed: a file on it is still open (a leaked handle)")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _faces(folder: Path) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(folder / f"f{i}.png")
    return folder


def _one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"emolens {command}: error: ")
    return err[0]


def _explain_args(model: Path, faces: Path, out: Path) -> list[str]:
    return [
        "explain",
        str(faces),
        "--model",
        str(model),
        "--no-detect",
        "--no-progress",
        "--out",
        str(out),
    ]


@pytest.fixture
def earlier(small_disk, tmp_path, capsys):
    """(model, faces, disk) with an earlier store and report on the disk, and their bytes."""
    model = tiny_model_file(tmp_path)
    faces = _faces(tmp_path / "faces")
    assert main(index_args(model, small_disk / "store", 16)) == 0
    assert main(_explain_args(model, faces, small_disk / "report")) == 0
    capsys.readouterr()
    return model, faces, small_disk, _files(small_disk)


def _fill(disk: Path) -> None:
    """Write a filler file until the disk refuses even one more byte."""
    with open(disk / "filler", "wb", buffering=0) as file:
        for size in (64 * 1024, 1):
            try:
                while True:
                    file.write(bytes(size))
            except OSError:
                pass


def _assert_earlier_untouched(disk: Path, before: dict[str, bytes]) -> None:
    after = {k: v for k, v in _files(disk).items() if k.split("/")[0] in ("store", "report")}
    assert after == before  # the failed runs' own new folders (store2/, report2/) aside
    assert len(open_store(disk / "store")) == 16


def test_a_full_disk_gives_one_line_and_keeps_earlier_results(earlier, capsys):
    model, faces, disk, before = earlier
    _fill(disk)
    assert main(index_args(model, disk / "store2", 24)) != 0
    assert "No space left on device" in _one_line_error(capsys, "index")
    assert main(_explain_args(model, faces, disk / "report2")) != 0
    assert "No space left on device" in _one_line_error(capsys, "explain")
    assert main(_explain_args(model, faces, disk / "report")) != 0  # over the earlier report
    assert "No space left on device" in _one_line_error(capsys, "explain")
    _assert_earlier_untouched(disk, before)


def test_a_read_only_folder_gives_one_line_and_keeps_earlier_results(earlier, capsys):
    model, faces, disk, before = earlier
    assert _mount(["mount", "-o", "remount,ro", str(disk)])
    assert main(index_args(model, disk / "store2", 24)) != 0
    assert "Read-only file system" in _one_line_error(capsys, "index")
    assert main(index_args(model, disk / "store", 16)) != 0  # rerun of the finished store
    assert "Read-only file system" in _one_line_error(capsys, "index")
    assert main(_explain_args(model, faces, disk / "report")) != 0
    assert "Read-only file system" in _one_line_error(capsys, "explain")
    _assert_earlier_untouched(disk, before)
