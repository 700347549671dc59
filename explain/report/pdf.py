"""report.pdf (matplotlib): one page per face (crop, one overlay per method, probabilities)."""

from __future__ import annotations

import io
import math
from typing import BinaryIO

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
    panels = [("face", face.crop)] + [
        (
            f"{m}\n{result.layers.get(m) or ''}".strip(),
            overlay_rgb(face, m) if m in face.maps else None,
        )
        for m in result.methods
    ]
    rows = math.ceil(len(panels) / COLUMNS)
    figure = Figure(figsize=PAGE)
    grid = figure.add_gridspec(
        rows + 1,
        COLUMNS,
        height_ratios=[1.0] * rows + [0.45],
        left=0.06,
        right=0.97,
        bottom=0.07,
        top=0.86,
        wspace=0.08,
        hspace=0.25,
    )
    x, y, w, h = face.box
    predicted = result.classes[face.predicted]
    figure.suptitle(
        f"{face.file}  (face {face.face}, box {x},{y} {w}x{h})\n"
        f"predicted {predicted} ({face.probs[face.predicted]:.2f}); "
        f"maps explain {result.classes[face.target]}",
        fontsize=11,
    )
    for index, (label, image) in enumerate(panels):
        axes = figure.add_subplot(grid[index // COLUMNS, index % COLUMNS])
        axes.set_axis_off()
        if image is None:
            axes.text(
                0.5,
                0.5,
                _wrap(face.errors.get(label.split("\n")[0], "no map")),
                ha="center",
                va="center",
                fontsize=8,
                color="darkred",
                wrap=True,
            )
        else:
            axes.imshow(image, interpolation="nearest")
        axes.set_title(label, fontsize=9)
    _probability_bars(figure.add_subplot(grid[rows, :]), result, face)
    return figure


def _probability_bars(axes, result: BatchResult, face: FaceResult) -> None:
    colours = ["#d0584a" if i == face.predicted else "#4a7bd0" for i in range(len(result.classes))]
    positions = range(len(result.classes))
    axes.barh(positions, face.probs, color=colours)
    axes.set_yticks(list(positions), labels=list(result.classes), fontsize=9)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("probability", fontsize=9)
    for position, prob in zip(positions, face.probs, strict=True):
        axes.text(min(float(prob) + 0.01, 0.93), position, f"{prob:.2f}", va="center", fontsize=8)


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
    """Hard-wrap one line every `width` characters (matplotlib's wrap ignores long words)."""
    return "\n".join(text[i : i + width] for i in range(0, len(text), width)) or text
