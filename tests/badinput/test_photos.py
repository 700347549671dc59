"""Every photo of the corpus through the library, `emolens explain`, `emolens index` and the
dashboard upload: good-but-odd files give faces, bad ones one clear reason; nothing crashes."""

from __future__ import annotations

import json
import re
import shutil
import warnings

import numpy as np
import pytest
from PIL import Image

from emolens import models
from emolens.cli import main
from emolens.explain.faces import decode_image, prepare_faces
from emolens.explain.report import explain_files, explain_photo
from emolens.explain.store import open_store
from tests.badinput.conftest import record
from tests.badinput.corpus import GRACE, PHOTO_ERRORS, PHOTO_OK, grace_rgb

NAMES = sorted(PHOTO_OK | set(PHOTO_ERRORS))


def _check(name: str, faces: int, reason: str | None) -> None:
    """Record and assert one outcome: a face for PHOTO_OK files, the expected reason else."""
    if name in PHOTO_OK:
        ok = faces >= 1 and reason is None
        record("graceful" if ok else "crash")
        assert ok, f"{name}: expected a face, got {faces} face(s), reason {reason!r}"
    else:
        ok = faces == 0 and reason is not None and re.search(PHOTO_ERRORS[name], reason)
        record("clear error" if ok else "crash")
        assert ok, f"{name}: expected a reason matching {PHOTO_ERRORS[name]!r}, got {reason!r}"


@pytest.fixture(scope="module")
def model(model_file):
    return models.load(model_file)


@pytest.mark.parametrize("name", NAMES)
def test_library_explain_files(model, photos, name):
    result = explain_files(model, [photos[name]])
    reason = result.errors[0].reason if result.errors else None
    _check(name, len(result.faces), reason)


@pytest.mark.parametrize("name", NAMES)
def test_library_explain_photo_bytes(model, photos, name):
    result = explain_photo(model, photos[name].read_bytes(), name=name)
    reason = result.errors[0].reason if result.errors else None
    _check(name, len(result.faces), reason)


def test_cli_explain_over_the_whole_folder(tmp_path, photos, model_file, capsys):
    """Folder scans take image suffixes only, so the suffix-less file is named explicitly."""
    out = tmp_path / "report"
    folder = str(photos["no_extension"].parent)
    code = main(["explain", folder, str(photos["no_extension"]), "--model", str(model_file),
                 "--out", str(out), "--no-progress", "--format", "json"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    faces: dict[str, int] = {}
    for face in results["faces"]:
        key = face["file"].split("/")[-1]
        faces[key] = faces.get(key, 0) + 1
    reasons = {e["file"].split("/")[-1]: e["reason"] for e in results["errors"]}
    assert set(faces) | set(reasons) == set(NAMES)
    for name in NAMES:
        _check(name, faces.get(name, 0), reasons.get(name))


def test_cli_index_of_an_image_folder_skips_the_bad_files(tmp_path, photos, model_file, capsys):
    """publictest/<class>/<files>: every decodable photo is indexed (no-face ones whole), bad
    ones skipped with a warning naming them; the store opens and holds the decodable files."""
    data = tmp_path / "data" / "publictest" / "happy"
    data.mkdir(parents=True)
    for name, path in photos.items():
        shutil.copy(path, data / name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["index", "--model", str(model_file), "--data", str(data.parents[1]),
                     "--classes", "emo3", "--out", str(tmp_path / "store")])  # fmt: skip
    said = capsys.readouterr().err + " ".join(str(w.message) for w in caught)
    assert code == 0, said
    assert "Skipped 7 corrupt or non-image files" in said and "bomb.png" in said
    store = open_store(tmp_path / "store")
    undecodable = {"empty.jpg", "truncated.jpg", "truncated.png", "text.jpg", "html.png",
                   "huge_20000.png", "bomb.png"}  # fmt: skip
    indexed = {str(p).split("/")[-1] for p in store.rows["file"]}
    assert indexed == set(photos) - undecodable
    for name in photos:
        record("clear error" if name in undecodable else "graceful")


@pytest.mark.parametrize("name", NAMES)
def test_dashboard_upload(app_env, photos, name):
    """AppTest sets the file_uploader's value (the page's own upload path)."""
    from tests.dashboard.conftest import TINY, messages, new_app

    at = new_app().run()
    at.multiselect(key="models").set_value([TINY])
    at.radio(key="source").set_value("Upload").run()
    at.file_uploader(key="upload").upload(name, photos[name].read_bytes(), "image/png")
    at.run()
    refused = name.rsplit(".", 1)[-1] in ("gif", "no_extension")
    if refused:  # the uploader's type filter refuses them (a browser shows "file type not allowed")
        ok = at.exception and "Invalid file extension" in str(at.exception)
        record("clear error" if ok else "crash")
        assert ok, f"{name}: expected the uploader to refuse the type, got {at.exception}"
        return
    if at.exception:
        record("crash")
        pytest.fail(f"{name}: the page raised {at.exception}")
    said = messages(at)["error"] + messages(at)["warning"]
    faces = 1 if at.subheader and at.subheader[0].value.startswith(TINY) else 0
    _check(name, faces, " ".join(said) if said else None)


def test_exif_orientation_is_applied_before_detection(photos):
    """Stored on its side with Orientation 6: decoded upright, equal to the original photo."""
    stored = Image.open(photos["exif_rotated.jpg"])
    assert stored.size == (600, 512)  # width, height as stored: lying on its side
    upright = decode_image(photos["exif_rotated.jpg"])
    assert upright.shape == (600, 512, 3)
    assert np.abs(upright.astype(int) - grace_rgb()).mean() < 3  # JPEG re-encoding noise only
    faces, boxes = prepare_faces(photos["exif_rotated.jpg"])
    reference = prepare_faces(GRACE)[1]
    np.testing.assert_allclose(boxes[0], reference[0], atol=6)
    record("graceful")


def test_several_faces_all_or_the_largest(model, photos):
    largest = explain_files(model, [photos["two_faces.png"]])
    every = explain_files(model, [photos["two_faces.png"]], all_faces=True)
    assert len(largest.faces) == 1 and len(every.faces) == 2
    widths = [face.box[2] for face in every.faces]
    assert largest.faces[0].box == every.faces[0].box and widths[0] > 1.5 * widths[1]
    record("graceful")


def test_the_bomb_is_refused_from_its_header_without_decoding(photos, monkeypatch):
    """decode_image refuses before OpenCV is called (a decode would allocate ~2.7 GB)."""
    import cv2

    def no_decode(*args, **kwargs):
        raise AssertionError("cv2.imdecode was called on a decompression bomb")

    monkeypatch.setattr(cv2, "imdecode", no_decode)
    for name in ("bomb.png", "huge_20000.png"):
        with pytest.raises(ValueError, match=r"too large, \d+ megapixels .* limit is 100 MP"):
            decode_image(photos[name])
        with pytest.raises(ValueError, match="too large"):
            prepare_faces(photos[name].read_bytes())
        record("clear error")
