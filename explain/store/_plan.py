"""The plan of a store: what is indexed, how, with which versions; a rerun must match it."""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import os
from pathlib import Path

import keras
import numpy as np

from emolens.explain._atomic import atomic_write_text
from emolens.explain.store._layout import FORMAT, PLAN

DESCRIPTIVE = {("created",), ("model", "name"), ("model", "file"), ("data", "source")}
"""Plan entries that describe but do not decide the results: a rerun may change them."""


def _sha256_chunks(chunks) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    with open(path, "rb") as file:
        return _sha256_chunks(iter(lambda: file.read(1 << 20), b""))


def weights_sha256(model: keras.Model) -> str:
    """sha256 of every weight's name, shape and float values, in the model's order."""
    return _sha256_chunks(
        part
        for weight in model.weights
        for part in (
            f"{weight.path}:{tuple(weight.shape)}:".encode(),
            np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes(),
        )
    )


def data_sha256(images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]) -> str:
    """sha256 of the images (float32 bytes), labels (int64) and class names, in order."""
    return _sha256_chunks(
        (
            json.dumps(list(classes)).encode(),
            np.ascontiguousarray(labels, dtype=np.int64).tobytes(),
            *(np.ascontiguousarray(image, dtype=np.float32).tobytes() for image in images),
        )
    )


def versions() -> dict[str, str]:
    """Versions of the packages whose numbers end up in the store."""
    import tensorflow as tf

    names = {"emolens": "emolens", "keras": "keras", "numpy": "numpy", "pyarrow": "pyarrow"}
    found = {key: importlib.metadata.version(dist) for key, dist in names.items()}
    return {**found, "tensorflow": tf.__version__}


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _flatten(plan: dict, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], object]:
    flat = {}
    for key, value in plan.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, (*prefix, key)))
        else:
            flat[(*prefix, key)] = value
    return flat


def differences(old: dict, new: dict) -> list[str]:
    """'key: old -> new' for each deciding entry where two plans differ."""
    flat_old, flat_new = _flatten(old), _flatten(new)
    keys = sorted(set(flat_old) | set(flat_new))
    return [
        f"{'.'.join(key)}: {flat_old.get(key)!r} -> {flat_new.get(key)!r}"
        for key in keys
        if key not in DESCRIPTIVE and flat_old.get(key) != flat_new.get(key)
    ]


def read_plan(store: Path) -> dict | None:
    """The plan a store was started with, or None for a new store.

    Raises:
        ValueError: the folder holds something else than an emolens store.
    """
    path = store / PLAN
    if not path.is_file():
        if store.is_dir() and any(p for p in store.iterdir() if not p.name.startswith(".")):
            raise ValueError(
                f"Folder {str(store)!r} is not empty and is no emolens store (no {PLAN}). "
                "Pass a new or empty folder as the store."
            )
        return None
    plan = json.loads(path.read_text())
    if plan.get("format") != FORMAT:
        raise ValueError(
            f"Store {str(store)!r} has format {plan.get('format')!r}; this emolens writes "
            f"{FORMAT!r}. Index into a new folder."
        )
    return plan


def start_plan(store: Path, plan: dict) -> dict:
    """Write `plan` into a new store, or check it against the plan the store was started with.

    Returns:
        The plan in force (the existing one, with its creation date, when resuming).

    Raises:
        ValueError: the store was started with other arguments; the message lists them.
    """
    existing = read_plan(store)
    if existing is None:
        store.mkdir(parents=True, exist_ok=True)
        atomic_write_text(store / PLAN, json.dumps(plan, indent=2) + "\n")
        return plan
    changed = differences(existing, plan)
    if changed:
        raise ValueError(
            f"Store {str(store)!r} was started with other arguments, and one store never "
            f"mixes runs: {'; '.join(changed)}. Rerun with the same arguments to continue "
            "it, or pass another --out (out= in Python; or delete the folder) to start afresh."
        )
    return existing
