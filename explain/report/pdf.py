"""report.pdf (matplotlib): one page per face (crop, one overlay per method, probabilities)."""

from __future__ import annotations

import io
import math
import textwrap
from typing import BinaryIO

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from emolens.explain.report.overlays import overlay_rgb
from emolens.explain.report.records import BatchResult, FaceResult

PAGE = (11.69, 8.27)  # A4 landscape, inches
COLUMNS = 4  # images per row
ERRORS_PER_PAGE = 40


def render_pdf(result: BatchResult) -> bytes:
    """The report as PDF bytes (the dashboard's one-page download for a single face)."""
    buffer = io.BytesIO()
    write_pdf_to(buffer, result)
    return buffer.getvalue()


def page_count(result: BatchResult) -> int:
    """Pages `write_pdf_to` writes: one per face, then the bad files (40 a page), at least one."""
    pages = len(result.faces) + math.ceil(len(result.errors) / ERRORS_PER_PAGE)
    return max(pages, 1)


def write_pdf_to(file: BinaryIO, result: BatchResult) -> None:
    """Write the report pages into an open binary file."""
    metadata = {"Title": f"emolens explain report: {result.model}", "Creator": "emolens"}
    with PdfPages(file, metadata=metadata) as pdf:
        for face in result.faces:
            pdf.savefig(_face_page(result, face))
        for start in range(0, len(result.errors), ERRORS_PER_PAGE):
            pdf.savefig(_errors_page(result, start))
        if not result.faces and not result.errors:
            pdf.savefig(_text_page("emolens explain report", ["No file was given."]))


def _face_page(result: BatchResult, face: FaceResult) -> Figure:
    """Title, then the crop, one overlay per method and the probability bars as one image."""
    figure = Figure(figsize=PAGE)
    x, y, w, h = face.box
    figure.suptitle(
        f"{face.file}  (face {face.face}, box {x},{y} {w}x{h})\n"
        f"predicted {result.classes[face.predicted]} ({face.probs[face.predicted]:.2f}); "
        f"maps explain {result.classes[face.target]}",
        fontsize=11,
    )
    axes = figure.add_axes((0.03, 0.03, 0.94, 0.86))
    axes.set_axis_off()
    axes.set_anchor("N")  # images right under the title, white space at the bottom
    panels = _panels(axes, result, face)
    axes.imshow(np.vstack([panels, _bars(axes, result, face, panels)]), interpolation="none")
    return figure


def _panels(axes, result: BatchResult, face: FaceResult) -> np.ndarray:
    """uint8 RGB grid of the crop and the overlays (COLUMNS a row); titles drawn on `axes`.

    Everything on a page is one image on one axes without ticks: matplotlib builds and draws
    ticks for every axes, which made a page cost ~0.5 s.
    """
    panels = [("face", face.crop)] + [
        (m, overlay_rgb(face, m) if m in face.maps else None) for m in result.methods
    ]
    side = face.crop.shape[0]
    gap, title = side // 10, side // 4
    columns = min(len(panels), COLUMNS)
    rows = math.ceil(len(panels) / columns)
    mosaic = np.full((rows * (side + title), COLUMNS * (side + gap) - gap, 3), 255, np.uint8)
    for index, (method, image) in enumerate(panels):
        row, column = divmod(index, columns)
        top, left = row * (side + title) + title, column * (side + gap)
        if image is None:
            mosaic[top : top + side, left : left + side] = 235
            message = _wrap(face.errors.get(method, "no map"), 34)
            axes.text(left + side / 2, top + side / 2, message, ha="center", va="center",
                      fontsize=6, color="darkred")  # fmt: skip
        else:
            mosaic[top : top + side, left : left + side] = image
        layer = result.layers.get(method, "") if method != "face" else ""
        label = f"{method}\n{layer}" if layer else method
        axes.text(left + side / 2, top - 4, label, ha="center", va="bottom", fontsize=9)
    return mosaic


_RED, _BLUE, _TRACK = (208, 88, 74), (74, 123, 208), (235, 235, 235)


def _bars(axes, result: BatchResult, face: FaceResult, above: np.ndarray) -> np.ndarray:
    """uint8 RGB strip of horizontal probability bars (one per class) under `above`."""
    width = above.shape[1]
    row = max(14, min(28, above.shape[0] // (2 * len(result.classes))))
    strip = np.full(((len(result.classes) + 1) * row, width, 3), 255, np.uint8)
    left, span = width // 6, width * 2 // 3
    for index, (name, prob) in enumerate(zip(result.classes, face.probs, strict=True)):
        top = (index + 1) * row + 2
        strip[top : top + row - 4, left : left + span] = _TRACK
        colour = _RED if index == face.predicted else _BLUE
        strip[top : top + row - 4, left : left + round(span * float(prob))] = colour
        centre = above.shape[0] + top + (row - 4) / 2
        bold = "bold" if index == face.predicted else "normal"
        axes.text(left - 8, centre, name, ha="right", va="center", fontsize=9, weight=bold)
        axes.text(left + span + 8, centre, f"{prob:.2f}", va="center", fontsize=9, weight=bold)
    return strip


def _errors_page(result: BatchResult, start: int) -> Figure:
    errors = result.errors[start : start + ERRORS_PER_PAGE]
    lines = [f"{error.file}: {error.reason}" for error in errors]
    return _text_page(f"Files not explained ({len(result.errors)})", lines)


def _text_page(title: str, lines: list[str]) -> Figure:
    figure = Figure(figsize=PAGE)
    figure.suptitle(title, fontsize=12)
    figure.text(
        0.04,
        0.92,
        "\n".join(_wrap(line, 125) for line in lines),
        va="top",
        fontsize=8,
        family="monospace",
    )
    return figure


def _wrap(text: str, width: int = 40) -> str:
    """Wrap at word boundaries, long words cut (matplotlib's own wrap leaves them whole)."""
    return textwrap.fill(text, width, break_long_words=True, break_on_hyphens=False) or text
