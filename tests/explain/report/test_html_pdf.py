"""report.html opens offline (every image a data: URI, no URL) and report.pdf has its pages."""

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser

import cv2
import numpy as np
import pytest

from emolens.explain.report import (
    explain_files,
    explain_photo,
    page_count,
    render_html,
    render_pdf,
    write_report,
)
from tests.explain.report.conftest import GRACE, copy_grace, write_bad_files

METHODS = ("grad_cam", "saliency")


class _Report(HTMLParser):
    """Collects <img> sources, every attribute value, table rows and the visible text."""

    def __init__(self):
        super().__init__()
        self.images, self.values, self.rows, self.text = [], [], [], []
        self._row = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.values += [value or "" for value in attrs.values()]
        if tag == "img":
            self.images.append(attrs)
        if tag == "tr":
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._row.append(attrs.get("class", ""))

    def handle_endtag(self, tag):
        if tag == "tr":
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def batch(tmp_path_factory, tiny_model):
    """Two photos (one with an awkward name), three bad files, explained by two methods."""
    folder = tmp_path_factory.mktemp("photos")
    copy_grace(folder, "grace.jpg", 'a <b>&"odd" name.jpg')
    write_bad_files(folder / "bad")
    return explain_files(tiny_model, [folder], METHODS)


def test_html_report_is_self_contained(batch):
    page = render_html(batch)
    parser = _Report()
    parser.feed(page)
    parser.close()
    faces = len(batch.faces)
    assert faces == 2 and len(batch.errors) == 3
    # 1 crop + one overlay per method and face, every one an embedded PNG that decodes.
    assert len(parser.images) == faces * (1 + len(METHODS))
    for image in parser.images:
        assert image["src"].startswith("data:image/png;base64,")
        pixels = cv2.imdecode(
            np.frombuffer(base64.b64decode(image["src"].split(",", 1)[1]), np.uint8),
            cv2.IMREAD_COLOR,
        )
        assert pixels.shape == (192, 192, 3)
    # No URL anywhere once the embedded images are taken out (base64 may contain "//").
    lowered = re.sub(r"data:image/png;base64,[a-z0-9+/=]+", "", page.lower())
    assert "http:" not in lowered and "https:" not in lowered and "//" not in lowered
    assert "<script" not in lowered and "url(" not in lowered
    assert not any(v.startswith(("http:", "https:", "//")) for v in parser.values)
    # Grid: header + one row per face, each with face, probabilities and one cell per method;
    # then the bad-file table with a header and one row per file.
    grid = parser.rows[: 1 + faces]
    assert all(len(row) == 2 + len(METHODS) for row in grid)
    assert [row[-len(METHODS) :] for row in grid[1:]] == [["map"] * len(METHODS)] * faces
    text = "".join(parser.text)
    assert 'a <b>&"odd" name.jpg' in text  # escaped in the page, read back as plain text
    assert "<b>&" not in page.replace("<b>vgg</b>", "")
    assert "Files not explained (3)" in text
    for error in batch.errors:
        assert error.file in text and error.reason in text
    for face in batch.faces:
        assert f"{face.probs[face.predicted]:.2f}" in text


def _pdf_pages(path) -> int:
    """Page count: poppler's pdfinfo when installed, else the page objects in the file."""
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        return int(
            next(line for line in info.stdout.splitlines() if line.startswith("Pages:")).split()[1]
        )
    data = path.read_bytes()
    return data.count(b"/Type /Page") - data.count(b"/Type /Pages")


def test_pdf_has_one_page_per_face_then_the_bad_files(batch, tmp_path):
    write_report(batch, tmp_path, "pdf")
    assert page_count(batch) == 2 + 1
    assert _pdf_pages(tmp_path / "report.pdf") == 3
    data = (tmp_path / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")


def test_one_face_report_for_the_dashboard(tiny_model, tmp_path):
    photo = cv2.cvtColor(cv2.imread(GRACE), cv2.COLOR_BGR2RGB)
    result = explain_photo(tiny_model, photo, ["grad_cam"], name="upload.jpg")
    assert len(result.faces) == 1 and not result.errors
    (tmp_path / "one.pdf").write_bytes(render_pdf(result))
    assert _pdf_pages(tmp_path / "one.pdf") == 1
    parser = _Report()
    parser.feed(render_html(result))
    assert len(parser.images) == 2 and "upload.jpg" in "".join(parser.text)
    # Same pixels through bytes or the decoded array.
    again = explain_photo(tiny_model, open(GRACE, "rb").read(), ["grad_cam"], name="upload.jpg")
    np.testing.assert_array_equal(again.faces[0].maps["grad_cam"], result.faces[0].maps["grad_cam"])


def test_one_photo_without_a_face_is_a_file_error(tiny_model):
    wall = np.full((200, 300, 3), 120, np.uint8)
    result = explain_photo(tiny_model, wall, ["grad_cam"], name="wall.png")
    assert not result.faces and result.errors[0].file == "wall.png"
    assert result.errors[0].reason.startswith("no face found in the 300x200 photo")
    assert render_pdf(result).startswith(b"%PDF-")
