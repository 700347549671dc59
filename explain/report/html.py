"""report.html: one self-contained page (images as data: URIs, no external URL), faces x methods."""

from __future__ import annotations

import base64
import datetime
from html import escape

from emolens.explain.report.overlays import encode_png, overlay_png
from emolens.explain.report.records import BatchResult, FaceResult

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.meta{color:#555;font-size:13px;margin:0 0 4px}
.legend{display:flex;align-items:center;gap:8px;font-size:12px;color:#555;margin:8px 0 16px}
.legend .ramp{width:160px;height:10px;border:1px solid #999;background:linear-gradient(90deg,
#00007f,#0000ff,#007fff,#00ffff,#7fff7f,#ffff00,#ff7f00,#ff0000,#7f0000)}
table{border-collapse:collapse} th,td{border:1px solid #ddd;padding:6px;vertical-align:top}
th{background:#f4f4f4;font-size:13px;text-align:left} th small{font-weight:normal;color:#666}
td.face,td.map{text-align:center;font-size:11px;color:#555}
td img{display:block;width:160px;height:160px;margin:0 auto 4px;image-rendering:auto}
.file{max-width:160px;overflow-wrap:anywhere}
.probs{min-width:190px;font-size:12px}
.bar{display:grid;grid-template-columns:64px 1fr 44px;align-items:center;gap:4px;margin:2px 0}
.bar .track{background:#eee;height:10px} .bar .fill{background:#4a7bd0;height:10px}
.bar.top .fill{background:#d0584a} .bar.top{font-weight:bold}
.bar .value{text-align:right}
.error{color:#a00;font-size:12px;max-width:160px;overflow-wrap:anywhere}
"""


def data_uri(png: bytes) -> str:
    """A PNG as a `data:image/png;base64,...` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(result: BatchResult, title: str = "emolens explain report") -> str:
    """The whole report as one HTML page; opens offline (no script, no external resource)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _summary(result),
        '<div class="legend"><span>map: 0 (no evidence)</span><span class="ramp"></span>'
        "<span>1 (strongest)</span></div>",
        _grid(result),
        _errors(result),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def _summary(result: BatchResult) -> str:
    files = len({face.file for face in result.faces})
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    timing = ", ".join(f"{stage} {ms / 1e3:.2f} s" for stage, ms in result.timing_ms.items())
    lines = [
        f"model <b>{escape(result.model)}</b>; classes {escape(', '.join(result.classes))}; "
        f"maps explain {_target_text(result)}",
        f"{len(result.faces)} face(s) from {files} file(s); "
        f"{len(result.errors)} file(s) not explained; {escape(when)}",
        f"time: {escape(timing)}" if timing else "",
    ]
    return "\n".join(f'<p class="meta">{line}</p>' for line in lines if line)


def _target_text(result: BatchResult) -> str:
    if result.target == "auto":
        return "each face's predicted class"
    return f"class <b>{escape(result.target)}</b> for every face"


def _grid(result: BatchResult) -> str:
    if not result.faces:
        return "<p>No face was explained.</p>"
    header = "".join(
        f"<th>{escape(m)}<br><small>{escape(result.layers.get(m) or '')}</small></th>"
        for m in result.methods
    )
    rows = [f"<table><thead><tr><th>face</th><th>probabilities</th>{header}</tr></thead><tbody>"]
    rows += [_face_row(result, face) for face in result.faces]
    return "\n".join([*rows, "</tbody></table>"])


def _face_row(result: BatchResult, face: FaceResult) -> str:
    x, y, w, h = face.box
    alt = escape(f"{face.file}, face {face.face}", quote=True)
    cells = [
        f'<td class="face"><img src="{data_uri(encode_png(face.crop))}" alt="{alt}">'
        f'<div class="file">{escape(face.file)}</div>face {face.face}, box {x},{y} {w}x{h}</td>',
        f'<td class="probs">{_bars(result, face)}</td>',
    ]
    for method in result.methods:
        if method in face.maps:
            ms = face.timing_ms.get(method, 0.0)
            cells.append(
                f'<td class="map"><img src="{data_uri(overlay_png(face, method))}" '
                f'alt="{escape(method, quote=True)}">{escape(method)}, {ms:.0f} ms/face</td>'
            )
        else:
            cells.append(f'<td class="error">{escape(face.errors.get(method, "no map"))}</td>')
    return "<tr>" + "".join(cells) + "</tr>"


def _bars(result: BatchResult, face: FaceResult) -> str:
    bars = []
    for index, (name, prob) in enumerate(zip(result.classes, face.probs, strict=True)):
        top = " top" if index == face.predicted else ""
        bars.append(
            f'<div class="bar{top}"><span>{escape(name)}</span><span class="track">'
            f'<span class="fill" style="display:block;width:{100 * float(prob):.1f}%"></span>'
            f'</span><span class="value">{float(prob):.2f}</span></div>'
        )
    explained = f"explained: <b>{escape(result.classes[face.target])}</b>"
    return "".join(bars) + f'<div class="meta">{explained}</div>'


def _errors(result: BatchResult) -> str:
    if not result.errors:
        return ""
    rows = "".join(
        f"<tr><td>{escape(error.file)}</td><td>{escape(error.reason)}</td></tr>"
        for error in result.errors
    )
    return (
        f"<h2>Files not explained ({len(result.errors)})</h2>"
        f"<table><thead><tr><th>file</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table>"
    )
