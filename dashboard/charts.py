"""Figures and images the pages show: plotly charts, boxes on photos, PNG bytes (no TensorFlow)."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import plotly.express as px
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
    """Scatter of a 2-D projection, coloured by a column of `rows`, the image id in customdata."""
    frame = rows[["id", "true_class", "predicted_class", "confidence", "correct"]].copy()
    frame["x"], frame["y"] = points[:, 0], points[:, 1]
    frame["correct"] = frame["correct"].map({True: "right", False: "mistake"})
    figure = px.scatter(
        frame,
        x="x",
        y="y",
        color=color,
        custom_data=["id"],
        hover_data={"id": True, "true_class": True, "predicted_class": True, "confidence": ":.2f"},
        opacity=0.7,
    )
    figure.update_traces(marker={"size": 5})
    figure.update_layout(
        height=480,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        dragmode="lasso",
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
