"""Tiny models saved as .keras (+ card) for the store tests, and an in-process CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import keras
import numpy as np

from emolens.cli import main
from emolens.explain.store._sources import load_source
from tests.toy_models import linear_probe_model, tiny_cnn

SIZE = 16
SHAPE = (SIZE, SIZE, 1)


def save_model(model: keras.Model, folder: Path, name: str, classes: list[str] | None) -> Path:
    """Save `model` as folder/name.keras with a JSON card holding `classes` (if given)."""
    path = folder / f"{name}.keras"
    model.save(path)
    if classes is not None:
        path.with_suffix(".json").write_text(json.dumps({"name": name, "classes": classes}))
    return path


def probe_model_file(folder: Path) -> Path:
    """linear_probe_model on 16x16 gray, classes angry, happy: logits (mean x, -mean x)."""
    return save_model(linear_probe_model(SHAPE), folder, "probe", ["angry", "happy"])


def tiny_model_file(folder: Path) -> Path:
    """A random tiny CNN (seed 0) on 16x16 gray for emo3, with its card."""
    keras.utils.set_random_seed(0)
    model = tiny_cnn(SHAPE, num_classes=3)
    return save_model(model, folder, "tiny", ["angry", "happy", "sad"])


def synthetic_images(count: int) -> tuple[np.ndarray, np.ndarray]:
    """The images and emo3 labels `--data synthetic:<count>` indexes (16x16)."""
    dataset = load_source(f"synthetic:{count}", "publictest", "emo3", SHAPE)
    return dataset.images, dataset.labels


def index_args(model: Path, out: Path, count: int = 24, *extra: str) -> list[str]:
    """argv of `emolens index` on `count` synthetic 16x16 faces, 8 per shard, batches of 4."""
    return [
        "index",
        "--model",
        str(model),
        "--data",
        f"synthetic:{count}",
        "--classes",
        "emo3",
        "--out",
        str(out),
        "--shard-size",
        "8",
        "--batch-size",
        "4",
        *extra,
    ]


def run_cli(argv: list[str]) -> int:
    """Run `emolens` in this process; the exit code."""
    return main(argv)


def png_bytes(pixels: np.ndarray) -> bytes:
    """uint8 (H, W) or (H, W, 3) pixels encoded as PNG bytes (lossless: decodes to the same)."""
    ok, data = cv2.imencode(".png", pixels)
    assert ok
    return data.tobytes()
