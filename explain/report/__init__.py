"""Reports of explained photos: overlay PNGs, results.csv/.json, a self-contained HTML, a PDF.

    result = explain_files(model, ["photos/"], ["grad_cam", "score_cam"])   # never aborts
    write_report(result, "report/")   # overlays/*.png, results.csv/.json, report.html/.pdf

One face (the dashboard's download): `explain_photo(model, rgb)` then `render_html(result)`
or `render_pdf(result)`.
"""

from emolens.explain.report.html import render_html
from emolens.explain.report.overlays import overlay_png, overlay_rgb
from emolens.explain.report.paths import collect_paths
from emolens.explain.report.pdf import page_count, render_pdf
from emolens.explain.report.pipeline import explain_files, explain_photo, predict_probs
from emolens.explain.report.records import BatchResult, FaceResult, FileError
from emolens.explain.report.sources import MAX_BYTES, MAX_PIXELS, crop_faces, read_photo
from emolens.explain.report.tables import render_csv, render_json, result_rows
from emolens.explain.report.write import FORMATS, check_formats, write_report

__all__ = [
    "FORMATS",
    "MAX_BYTES",
    "MAX_PIXELS",
    "BatchResult",
    "FaceResult",
    "FileError",
    "check_formats",
    "collect_paths",
    "crop_faces",
    "explain_files",
    "explain_photo",
    "overlay_png",
    "overlay_rgb",
    "page_count",
    "predict_probs",
    "read_photo",
    "render_csv",
    "render_html",
    "render_json",
    "render_pdf",
    "result_rows",
    "write_report",
]
