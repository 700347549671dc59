"""Write a batch's report files, each whole or not at all (temp name, then rename)."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np

from emolens.explain._atomic import atomic_file
from emolens.explain.report.html import render_html
from emolens.explain.report.overlays import overlay_png
from emolens.explain.report.pdf import write_pdf_to
from emolens.explain.report.records import BatchResult
from emolens.explain.report.tables import output_names, render_csv, render_json

FORMATS = ("png", "html", "pdf", "json", "csv")
"""png: overlay per face and method; html/pdf: report.html/.pdf; json/csv: results.json/.csv."""


def check_formats(formats: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Formats from "png,html" or a sequence, checked.

    Raises:
        ValueError: an unknown format, or none.
    """
    if isinstance(formats, str):
        formats = formats.split(",")
    formats = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(
            f"Unknown report format(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {','.join(FORMATS)}."
        )
    return formats


def write_report(
    result: BatchResult,
    out: str | os.PathLike,
    formats: str | tuple[str, ...] = FORMATS,
    *,
    save_maps: bool = False,
) -> dict[str, list[Path]]:
    """Write the report files of `result` into folder `out`.

    Files: `overlays/<face>_<method>.png` (png), `maps/<face>_<method>.npy` (save_maps; raw
    float32 (H, W) maps in [0, 1]), `report.html`, `report.pdf`, `results.json`,
    `results.csv`. The documents are rendered before the first file is written, and each file
    is written under a temp name and renamed: a failure while rendering leaves an existing
    report as it was, and no failure leaves a half file (a full disk midway can leave some
    files new and others old). The time taken is added to `result.timing_ms["report"]`.

    Returns:
        format (and "maps") -> the paths written.

    Raises:
        ValueError: unknown format.
    """
    started = time.perf_counter()
    formats = check_formats(formats)
    out = Path(out)
    has_png = "png" in formats
    renderers = {
        "csv": ("results.csv", lambda: render_csv(result, has_png, save_maps).encode()),
        "json": ("results.json", lambda: render_json(result, has_png, save_maps).encode()),
        "html": ("report.html", lambda: render_html(result).encode()),
        "pdf": ("report.pdf", lambda: _pdf_bytes(result)),
    }
    documents = {f: (name, render()) for f, (name, render) in renderers.items() if f in formats}
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    if has_png or save_maps:
        written.update(_per_face_files(result, out, has_png, save_maps))
    for fmt, (name, data) in documents.items():
        with atomic_file(out / name, "wb") as file:
            file.write(data)
        written[fmt] = [out / name]
    result.timing_ms["report"] = 1e3 * (time.perf_counter() - started)
    return written


def _pdf_bytes(result: BatchResult) -> bytes:
    with io.BytesIO() as buffer:
        write_pdf_to(buffer, result)
        return buffer.getvalue()


def _per_face_files(result: BatchResult, out: Path, pngs: bool, maps: bool) -> dict:
    written: dict[str, list[Path]] = {"png": [], "maps": []}
    for face in result.faces:
        for method, face_map in face.maps.items():
            names = output_names(face, method)
            if pngs:
                with atomic_file(out / names["overlay"], "wb") as file:
                    file.write(overlay_png(face, method))
                written["png"].append(out / names["overlay"])
            if maps:
                with atomic_file(out / names["map"], "wb") as file:
                    np.save(file, face_map.astype(np.float32))
                written["maps"].append(out / names["map"])
    return {key: paths for key, paths in written.items() if paths}
