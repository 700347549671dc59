"""Report files appear whole or not at all: no temp files left, an old report replaced whole."""

import json

import pytest

from emolens.explain.report import explain_files, write_report
from emolens.explain.report import write as write_module
from tests.explain.report.conftest import copy_grace


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_no_temp_files_and_a_rerun_replaces_the_report_whole(tmp_path, tiny_model):
    copy_grace(tmp_path / "photos", "g1.jpg", "g2.jpg")
    out = tmp_path / "out"
    first = explain_files(tiny_model, [tmp_path / "photos"], ["grad_cam", "saliency"])
    write_report(first, out, save_maps=True)
    assert _files(out) == sorted(
        ["report.html", "report.pdf", "results.csv", "results.json"]
        + [f"overlays/{f.face_id}_{m}.png" for f in first.faces for m in ("grad_cam", "saliency")]
        + [f"maps/{f.face_id}_{m}.npy" for f in first.faces for m in ("grad_cam", "saliency")]
    )  # every file under its final name: no ".*.tmp" left behind
    second = explain_files(tiny_model, [tmp_path / "photos" / "g2.jpg"], ["grad_cam"])
    write_report(second, out, ("html", "json", "csv"))
    document = json.loads((out / "results.json").read_text())
    assert [face["file"] for face in document["faces"]] == [str(tmp_path / "photos" / "g2.jpg")]
    assert len((out / "results.csv").read_text().splitlines()) == 2  # header + one row
    assert "g1.jpg" not in (out / "report.html").read_text()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_a_write_that_fails_midway_keeps_the_old_file(tmp_path, tiny_model, monkeypatch):
    copy_grace(tmp_path / "photos", "grace.jpg")
    out = tmp_path / "out"
    result = explain_files(tiny_model, [tmp_path / "photos"], ["grad_cam"])
    write_report(result, out, "pdf")
    old = (out / "report.pdf").read_bytes()

    def half_then_crash(file, result):
        file.write(b"%PDF-1.4 half a page")
        raise OSError("disk full")

    monkeypatch.setattr(write_module, "write_pdf_to", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        write_report(result, out, "pdf")
    assert (out / "report.pdf").read_bytes() == old
    assert _files(out) == ["report.pdf"]


def test_a_render_that_fails_leaves_the_whole_old_report(tmp_path, tiny_model, monkeypatch):
    """Every document is rendered before the first file is written: a PDF that cannot be
    drawn leaves the earlier report as it was (before, its new PNGs, CSV, JSON and HTML were
    already beside the old PDF)."""
    copy_grace(tmp_path / "photos", "g1.jpg", "g2.jpg")
    out = tmp_path / "out"
    write_report(explain_files(tiny_model, [tmp_path / "photos"], ["grad_cam"]), out)
    before = {name: (out / name).read_bytes() for name in _files(out)}

    def broken(file, result):
        raise RuntimeError("a page could not be drawn")

    monkeypatch.setattr(write_module, "write_pdf_to", broken)
    other = explain_files(tiny_model, [tmp_path / "photos" / "g2.jpg"], ["saliency"])
    with pytest.raises(RuntimeError, match="could not be drawn"):
        write_report(other, out)
    assert {name: (out / name).read_bytes() for name in _files(out)} == before
