"""Compute one shard (rows + arrays) and write it: each file atomically, the rows last."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from emolens.explain._atomic import atomic_file
from emolens.explain.store._forward import forward
from emolens.explain.store._layout import EMBEDDINGS, array_path, rows_path

MAP_DTYPES = ("uint8", "float16")


def encode_maps(maps: np.ndarray, dtype: str) -> np.ndarray:
    """float32 maps in [0, 1] -> uint8 (round(255 * m)) or float16."""
    if dtype == "uint8":
        return np.round(np.clip(maps, 0.0, 1.0) * 255.0).astype(np.uint8)
    return maps.astype(np.float16)


def decode_maps(stored: np.ndarray) -> np.ndarray:
    """Stored maps (uint8 or float16) -> float32 in [0, 1]."""
    if stored.dtype == np.uint8:
        return stored.astype(np.float32) / np.float32(255.0)
    return stored.astype(np.float32)


def _method_maps(model, images, method, plan, top, forwarded) -> np.ndarray:
    """(n, H, W) float32 maps of `method` for the predicted classes `top`."""
    if method == "grad_cam":
        return forwarded["maps"]
    from emolens.explain import METHODS  # the registry imports every method: only when needed

    return METHODS[method](model, images, top, plan["layer"], batch_size=plan["batch_size"]).astype(
        np.float32
    )


def shard_rows(
    ids: range, labels: np.ndarray, sources: dict, forwarded: dict, classes: tuple[str, ...]
) -> pa.Table:
    """Rows of one shard: ids, source, label, prediction, confidence, margin, loss, probs."""
    probs, log_probs, top = forwarded["probs"], forwarded["log_probs"], forwarded["top"]
    ordered = np.sort(probs, axis=1)  # (n, C) ascending
    second = ordered[:, -2] if probs.shape[1] > 1 else np.zeros(len(probs), np.float32)
    known = labels >= 0
    picked = np.take_along_axis(log_probs, np.maximum(labels, 0)[:, None], axis=1)[:, 0]
    names = np.array([*classes, ""], dtype=object)  # label -1 -> ""
    columns = {
        "id": pa.array(np.arange(ids.start, ids.stop, dtype=np.int64)),
        "source_index": pa.array(sources["source_index"], pa.int64()),
        "file": pa.array(sources["file"], pa.string()),
        "label": pa.array(labels.astype(np.int64)),
        "true_class": pa.array(sources["true_class"], pa.string()),
        "prediction": pa.array(top.astype(np.int64)),
        "predicted_class": pa.array(names[top].tolist(), pa.string()),
        "correct": pa.array(known & (top == labels)),
        "confidence": pa.array(ordered[:, -1].astype(np.float32)),
        "margin": pa.array((ordered[:, -1] - second).astype(np.float32)),
        "loss": pa.array(np.where(known, -picked, np.nan).astype(np.float32)),
    }
    for k, name in enumerate(classes):
        columns[f"prob_{name}"] = pa.array(probs[:, k].astype(np.float32))
    return pa.table(columns)


def _save_array(path: Path, array: np.ndarray) -> None:
    with atomic_file(path, "wb") as file:
        np.save(file, array, allow_pickle=False)


def write_shard(
    store: Path,
    plan: dict,
    shard: int,
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    sources: dict,
    on_batch=None,
) -> None:
    """Compute and write shard `shard` of `plan` for its `images` (n, H, W, C) in [0, 1].

    Arrays first, each whole or not at all; the Parquet rows last, so a shard whose rows
    exist is complete. Any process holding the plan may write any shard.

    Args:
        store: the store folder.
        plan: the store's plan (methods, layer, batch size, map dtype, classes).
        shard: shard number; its ids are `range(shard * shard_size, ...)`.
        model: the classifier.
        images: float32 (n, H, W, C), the shard's images.
        labels: int64 (n,), indices into the plan's classes, -1 for other classes.
        sources: per-image "source_index" (n,) ints, "file" and "true_class" (n,) strings.
        on_batch: called as on_batch(k) after each forward pass over k images.
    """
    methods = plan["methods"]
    start = shard * plan["shard_size"]
    ids = range(start, start + len(images))
    with_cam = "grad_cam" in methods
    forwarded = forward(model, images, plan["layer"], with_cam, plan["batch_size"], on_batch)
    _save_array(array_path(store, shard, EMBEDDINGS), forwarded["embedding"].astype(np.float32))
    for method in methods:
        maps = _method_maps(model, images, method, plan, forwarded["top"], forwarded)
        _save_array(array_path(store, shard, method), encode_maps(maps, plan["maps"]["dtype"]))
    rows = shard_rows(ids, labels, sources, forwarded, tuple(plan["classes"]))
    with atomic_file(rows_path(store, shard), "wb") as file:
        pq.write_table(rows, file)
