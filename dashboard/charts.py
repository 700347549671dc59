"""Figures and images the pages show: plotly charts, boxes on photos, PNG bytes (no TensorFlow)."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import plotly.graph_objects as go

COLORMAPS = ("jet", "inferno", "viridis", "magma", "turbo", "coolwarm")


def probability_chart(probs: dict[str, tuple[tuple[str, ...], np.ndarray]]) -> go.Figure:
    """Grouped bars: one group per class, one bar per model ({model: (classes, probs (C,))})."""
    bars = [
        go.Bar(name=model, x=list(classes), y=[float(p) for p in values])
        for model, (classes, values) in probs.items()
    ]
    figure = go.Figure(bars)
    figure.update_layout(
        barmode="group",
        yaxis={"range": [0, 1], "title": "probability"},
        height=280,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        showlegend=len(bars) > 1,
    )
    return figure


def confusion_chart(confusion: np.ndarray, classes: tuple[str, ...], title: str = "") -> go.Figure:
    """Heatmap of a confusion matrix (rows true, columns predicted) with counts in the cells."""
    figure = go.Figure(
        go.Heatmap(
            z=np.asarray(confusion).tolist(),
            x=list(classes),
            y=list(classes),
            colorscale="Blues",
            text=np.asarray(confusion).tolist(),
            texttemplate="%{text}",
            hovertemplate="true %{y}, predicted %{x}: %{z} images<extra></extra>",
            showscale=False,
        )
    )
    figure.update_layout(
        title=title or None,
        xaxis_title="predicted",
        yaxis_title="true",
        yaxis_autorange="reversed",
        height=120 + 50 * len(classes),
        margin=dict(l=10, r=10, t=30 if title else 10, b=10),
    )
    return figure


def embedding_chart(points: np.ndarray, rows: pd.DataFrame, color: str) -> go.Figure:
    """Scatter of a 2-D projection (N, 2), one trace per value of column `color` of `rows`.

    Each point's customdata is [image id, true class, predicted class, confidence] (the id
    first: selections and the face on hover read it). WebGL above 1,000 points, as plotly
    express does; traces are built directly (px.scatter took ~0.3-0.8 s for 3,589 points).
    """
    frame = rows[["id", "true_class", "predicted_class", "confidence", "correct"]].copy()
    frame["x"], frame["y"] = points[:, 0], points[:, 1]
    frame["correct"] = frame["correct"].map({True: "right", False: "mistake"})
    trace = go.Scattergl if len(frame) > 1000 else go.Scatter
    hover = (
        "#%{customdata[0]}: true %{customdata[1]}, predicted %{customdata[2]} "
        "(%{customdata[3]:.2f})<extra>%{fullData.name}</extra>"
    )
    columns = ["id", "true_class", "predicted_class", "confidence"]
    figure = go.Figure(
        [
            trace(
                x=group["x"].to_numpy(),
                y=group["y"].to_numpy(),
                customdata=group[columns].to_numpy(dtype=object),
                mode="markers",
                name=str(value),
                marker={"size": 5, "opacity": 0.7},
                hovertemplate=hover,
            )
            for value, group in frame.groupby(color, sort=False)  # legend in order of appearance
        ]
    )
    figure.update_layout(
        height=480,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        dragmode="lasso",
        xaxis_title="x",
        yaxis_title="y",
        legend={"orientation": "h", "y": 1.1, "title_text": ""},
    )
    return figure


def photo_with_boxes(photo: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    """uint8 (H, W, 3) copy of `photo` with each (x, y, w, h) box drawn in green."""
    drawn = np.ascontiguousarray(photo).copy()
    thickness = max(2, round(max(photo.shape[:2]) / 250))
    for x, y, w, h in boxes:
        cv2.rectangle(drawn, (x, y), (x + w - 1, y + h - 1), (40, 220, 60), thickness)
    return drawn


def to_rgb_uint8(image: np.ndarray, side: int = 0) -> np.ndarray:
    """uint8 (S, S, 3) from a float [0, 1] (H, W, 1|3) image, enlarged to `side` if given."""
    pixels = np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    if side and side > pixels.shape[0]:
        pixels = cv2.resize(pixels, (side, side), interpolation=cv2.INTER_CUBIC)
    return pixels


def png_bytes(rgb: np.ndarray) -> bytes:
    """PNG bytes of a uint8 (H, W, 3) RGB image."""
    from emolens.explain.report.overlays import encode_png

    return encode_png(rgb)


def face_sprite(images: np.ndarray, side: int = 48, columns: int = 64) -> np.ndarray:
    """uint8 (rows * side, columns * side, C): `images` tiled row by row, `columns` a row.

    Args:
        images: float (N, H, W, C) in [0, 1], C 1 or 3; each is resized to (side, side).
        side: tile side in pixels.
        columns: tiles per row; the last row is padded with mid gray.
    """
    count, _, _, channels = images.shape
    pixels = np.rint(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)  # (N, H, W, C)
    if pixels.shape[1:3] != (side, side):
        pixels = np.stack(
            [cv2.resize(p, (side, side), interpolation=cv2.INTER_AREA) for p in pixels]
        ).reshape(count, side, side, channels)
    rows = max(1, -(-count // columns))
    tiles = np.full((rows * columns, side, side, channels), 128, np.uint8)
    tiles[:count] = pixels
    grid = tiles.reshape(rows, columns, side, side, channels).transpose(0, 2, 1, 3, 4)
    return grid.reshape(rows * side, columns * side, channels)


def jpeg_data_uri(pixels: np.ndarray, quality: int = 85) -> str:
    """`data:image/jpeg;base64,...` of a uint8 (H, W, 1|3) RGB or gray image."""
    import base64

    bgr = pixels if pixels.shape[-1] == 1 else cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"OpenCV could not encode a {pixels.shape} image as JPEG.")
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")
