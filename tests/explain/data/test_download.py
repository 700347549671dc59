import io
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from emolens.explain.data import download, load_fer2013
from emolens.explain.data.download import convert_fer2013_csv, download_fer2013
from emolens.explain.data.labels import FER7
from tests.explain.data.files import CSV_LABELS, _pixels, _write_csv


def test_convert_fer2013_csv_writes_npz_that_load_fer2013_reads(tmp_path):
    csv_path = _write_csv(tmp_path / "fer2013.csv")
    written = convert_fer2013_csv(csv_path, tmp_path / "data")
    assert set(written) == {"train", "publictest"}
    with np.load(written["train"]) as npz:
        assert npz["x"].dtype == np.uint8 and npz["x"].shape == (6, 48, 48)
        np.testing.assert_array_equal(npz["x"][4], _pixels(4))
        np.testing.assert_array_equal(npz["y"], CSV_LABELS[:6])
        assert tuple(npz["classes"]) == FER7
    assert not [p for p in (tmp_path / "data" / "fer2013").iterdir() if p.suffix == ".tmp"]
    public = load_fer2013("publictest", "fer7", root=tmp_path / "data")
    np.testing.assert_array_equal(public.labels, CSV_LABELS[6:9])
    np.testing.assert_allclose(public.images[1, ..., 0], _pixels(7) / 255.0, atol=1e-7)


def test_download_fer2013_converts_a_csv_placed_by_hand(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "_kaggle_command", lambda: pytest.fail("network used"))
    _write_csv((tmp_path / "fer2013").mkdir() or tmp_path / "fer2013" / "fer2013.csv")
    assert download_fer2013(tmp_path) == tmp_path
    assert len(load_fer2013("train", "emo3", root=tmp_path)) == 4
    before = (tmp_path / "fer2013" / "train.npz").stat().st_mtime_ns
    download_fer2013(tmp_path)  # already there: nothing rewritten
    assert (tmp_path / "fer2013" / "train.npz").stat().st_mtime_ns == before


def test_download_fer2013_without_kaggle_explains_the_manual_route(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "_kaggle_command", lambda: None)
    with pytest.raises(
        FileNotFoundError, match=r"kaggle.*not installed.*by hand.*put it at .*fer2013.csv"
    ):
        download_fer2013(tmp_path)


def _fake_kaggle(tmp_path: Path, archive: bytes, exit_code: int = 0) -> str:
    """A stand-in `kaggle` command that writes `archive` into its -p folder."""
    (tmp_path / "archive.zip").write_bytes(archive)
    script = tmp_path / "kaggle"
    script.write_text(
        f"#!{sys.executable}\nimport shutil, sys\n"
        f"folder = sys.argv[sys.argv.index('-p') + 1]\n"
        f"shutil.copy({str(tmp_path / 'archive.zip')!r}, folder + '/fer.zip')\n"
        f"sys.stderr.write('403 Forbidden')\nsys.exit({exit_code})\n"
    )
    script.chmod(0o755)
    return str(script)


def _kaggle_zip(csv_bytes: bytes) -> bytes:
    """Kaggle's competition zip: fer2013.csv inside fer2013.tar.gz."""
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        info = tarfile.TarInfo("fer2013/fer2013.csv")
        info.size = len(csv_bytes)
        tar.addfile(info, io.BytesIO(csv_bytes))
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("example_submission.csv", "id\n")
        archive.writestr("fer2013.tar.gz", packed.getvalue())
    return bundle.getvalue()


def test_download_fer2013_through_a_stand_in_kaggle_command(tmp_path, monkeypatch):
    csv_bytes = _write_csv(tmp_path / "source.csv").read_bytes()
    command = _fake_kaggle(tmp_path, _kaggle_zip(csv_bytes))
    monkeypatch.setattr(download, "_kaggle_command", lambda: command)
    data = download_fer2013(tmp_path / "data")
    assert (data / "fer2013" / "fer2013.csv").read_bytes() == csv_bytes
    assert len(load_fer2013("publictest", root=data)) == 3
    assert [p.name for p in (data / "fer2013").iterdir() if p.name.startswith(".")] == []


def test_download_fer2013_reports_a_failed_download(tmp_path, monkeypatch):
    command = _fake_kaggle(tmp_path, b"not a zip", exit_code=1)
    monkeypatch.setattr(download, "_kaggle_command", lambda: command)
    with pytest.raises(RuntimeError, match=r"failed \(exit 1\): 403 Forbidden.*rules"):
        download_fer2013(tmp_path / "data")
