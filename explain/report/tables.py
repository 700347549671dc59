"""results.csv (one row per face and method, one per bad file) and results.json (nested)."""

from __future__ import annotations

import csv
import io
import json

from emolens.explain.report.records import BatchResult, FaceResult

BASE_COLUMNS = (
    "file",
    "face",
    "box_x",
    "box_y",
    "box_w",
    "box_h",
    "predicted",
    "confidence",
    "target",
    "method",
    "layer",
    "overlay",
    "map",
    "ms_decode",
    "ms_detect",
    "ms_predict",
    "ms_method",
    "error",
)


def output_names(face: FaceResult, method: str) -> dict[str, str]:
    """Relative paths of a face's overlay PNG and raw map for `method` inside the output folder."""
    return {
        "overlay": f"overlays/{face.face_id}_{method}.png",
        "map": f"maps/{face.face_id}_{method}.npy",
    }


def result_rows(result: BatchResult, overlays: bool = True, maps: bool = False) -> list[dict]:
    """One dict per (face, method), then one per file that gave no face (its reason in "error").

    Probability columns are "p_<class>" in class order; `overlays` / `maps` say whether the
    overlay PNGs / raw maps were written (else their columns are empty).
    """
    rows = []
    for face in result.faces:
        for method in result.methods:
            rows.append(_face_row(result, face, method, overlays, maps))
    for error in result.errors:
        rows.append({"file": error.file, "error": error.reason})
    return rows


def _face_row(result, face: FaceResult, method: str, overlays: bool, maps: bool) -> dict:
    x, y, w, h = face.box
    names = output_names(face, method)
    has_map = method in face.maps
    row = {
        "file": face.file,
        "face": face.face,
        **{"box_x": x, "box_y": y, "box_w": w, "box_h": h},
        "predicted": result.classes[face.predicted],
        "confidence": round(float(face.probs[face.predicted]), 6),
        "target": result.classes[face.target],
        "method": method,
        "layer": face.layers.get(method, result.layers.get(method, "")),
        "overlay": names["overlay"] if overlays and has_map else "",
        "map": names["map"] if maps and has_map else "",
        **{
            f"ms_{k}": round(face.timing_ms.get(k, 0.0), 3) for k in ("decode", "detect", "predict")
        },
        "ms_method": round(face.timing_ms.get(method, 0.0), 3),
        "error": face.errors.get(method, ""),
    }
    row.update(
        {f"p_{c}": round(float(p), 6) for c, p in zip(result.classes, face.probs, strict=True)}
    )
    return row


def render_csv(result: BatchResult, overlays: bool = True, maps: bool = False) -> str:
    """`result_rows` as CSV text (header: BASE_COLUMNS, then p_<class> per class)."""
    columns = [*BASE_COLUMNS, *(f"p_{c}" for c in result.classes)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(result_rows(result, overlays, maps))
    return buffer.getvalue()


def render_json(result: BatchResult, overlays: bool = True, maps: bool = False) -> str:
    """The batch as JSON: model, classes, methods, target, layers, timing, faces, errors."""
    faces = []
    for face in result.faces:
        per_method = []
        for method in result.methods:
            row = _face_row(result, face, method, overlays, maps)
            per_method.append(
                {k: row[k] for k in ("method", "layer", "overlay", "map", "ms_method", "error")}
            )
        row = _face_row(result, face, result.methods[0], overlays, maps)
        faces.append(
            {
                "file": face.file,
                "face": face.face,
                "box": [int(v) for v in face.box],
                "predicted": row["predicted"],
                "target": row["target"],
                "probabilities": {c: row[f"p_{c}"] for c in result.classes},
                "timing_ms": {k: row[f"ms_{k}"] for k in ("decode", "detect", "predict")},
                "methods": per_method,
            }
        )
    document = {
        "model": result.model,
        "classes": list(result.classes),
        "methods": list(result.methods),
        "target": result.target,
        "layers": result.layers,
        "timing_ms": {k: round(v, 3) for k, v in result.timing_ms.items()},
        "faces": faces,
        "errors": [{"file": e.file, "reason": e.reason} for e in result.errors],
    }
    return json.dumps(document, indent=2) + "\n"
