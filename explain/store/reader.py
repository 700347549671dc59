"""`open_store`: rows as a DataFrame, maps and embeddings memory-mapped, filters, class means."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from emolens.explain.store._layout import EMBEDDINGS, FORMAT, MANIFEST, PLAN
from emolens.explain.store._shard import decode_maps

Ids = Sequence[int] | np.ndarray | None
"""Row ids (the `id` column); None: every row, in id order."""
Classes = str | int | Sequence[str | int] | None
"""A class name or index, several of them, or None for any class."""


class Store:
    """A finished results store (see `open_store`); reads only files its manifest lists.

    Attributes:
        path: the store folder.
        manifest: the manifest (model, data, classes, methods, layer, versions, shards).
    """

    def __init__(self, path: Path, manifest: dict):
        self.path = path
        self.manifest = manifest
        self._shard_size = int(manifest["shard_size"])
        self._arrays: dict[tuple[str, int], np.ndarray] = {}  # memory maps, opened on demand

    def __len__(self) -> int:
        return int(self.manifest["data"]["num_images"])

    def __repr__(self) -> str:
        return (
            f"Store({str(self.path)!r}: {len(self)} images, model "
            f"{self.manifest['model']['name']!r}, methods {', '.join(self.methods) or 'none'})"
        )

    @property
    def classes(self) -> tuple[str, ...]:
        """The model's class names, in the order of `label`, `prediction` and `prob_*`."""
        return tuple(self.manifest["classes"])

    @property
    def methods(self) -> tuple[str, ...]:
        """Methods whose maps the store holds."""
        return tuple(self.manifest["methods"])

    @functools.cached_property
    def rows(self) -> pd.DataFrame:
        """One row per image, in id order (the index equals the `id` column).

        Columns: id, source_index, file, label, true_class, prediction, predicted_class,
        correct, confidence (top probability), margin (top minus second probability), loss
        (cross-entropy of the label), prob_<class> per class. label is -1 (true_class still
        named, loss NaN, never correct) for classes the model lacks.
        """
        tables = [pq.read_table(self.path / shard["rows"]) for shard in self.manifest["shards"]]
        return pa.concat_tables(tables).to_pandas()

    def probabilities(self, ids: Ids = None) -> np.ndarray:
        """float32 (n, C) class probabilities of `ids`, columns in `classes` order."""
        columns = [f"prob_{name}" for name in self.classes]
        rows = self.rows if ids is None else self.rows.iloc[self._ids(ids)]
        return rows[columns].to_numpy(np.float32)

    def filter(
        self,
        true: Classes = None,
        predicted: Classes = None,
        correct: bool | None = None,
        confidence: tuple[float, float] | None = None,
    ) -> pd.DataFrame:
        """Rows whose true class, predicted class, correctness and confidence match.

        Args:
            true: class name(s) (any case, also classes the model lacks) or label index(es).
            predicted: class name(s) or index(es) of the prediction.
            correct: True for right predictions, False for mistakes, None for both.
            confidence: (low, high), inclusive bounds on the top probability.

        Returns:
            The matching rows (a view-free copy of `rows`), in id order.
        """
        rows = self.rows
        keep = np.ones(len(rows), dtype=bool)
        if true is not None:
            keep &= self._class_mask(rows["true_class"], rows["label"], true)
        if predicted is not None:
            keep &= self._class_mask(rows["predicted_class"], rows["prediction"], predicted)
        if correct is not None:
            keep &= rows["correct"].to_numpy() == bool(correct)
        if confidence is not None:
            low, high = confidence
            values = rows["confidence"].to_numpy()
            keep &= (values >= low) & (values <= high)
        return rows[keep].copy()

    def maps(self, method: str, ids: Ids = None, *, raw: bool = False) -> np.ndarray:
        """Maps of `method` for `ids`, read from memory-mapped shard files.

        Returns:
            float32 (n, H, W) in [0, 1]; with `raw`, the stored uint8 or float16 values.

        Raises:
            ValueError: `method` is not in the store, or an id is out of range.
        """
        if method not in self.methods:
            raise ValueError(
                f"Store {str(self.path)!r} holds maps of {', '.join(self.methods) or 'no method'}"
                f"; got {method!r}. Index again with --method {method} (methods=[...] in "
                "Python) into another store."
            )
        stored = self._gather(method, ids)
        return stored if raw else decode_maps(stored)

    def embeddings(self, ids: Ids = None) -> np.ndarray:
        """float32 (n, D) penultimate-layer embeddings of `ids` (memory-mapped shards)."""
        return np.asarray(self._gather(EMBEDDINGS, ids), dtype=np.float32)

    def class_means(self, method: str, by: str = "label") -> np.ndarray:
        """float32 (C, H, W) mean map of `method` per class, by "label" or "prediction".

        A class with no image is all zeros (manifest["class_counts"] has the counts).
        """
        if by not in ("label", "prediction") or method not in self.methods:
            raise ValueError(
                f"class_means needs a method of this store ({', '.join(self.methods)}) and by "
                f"'label' or 'prediction'; got {method!r}, {by!r}."
            )
        means = np.load(self.path / self.manifest["class_means"][method], mmap_mode="r")
        return np.array(means[0 if by == "label" else 1])

    def mean_map(self, method: str, ids: Ids) -> np.ndarray:
        """float32 (H, W) mean of the maps of `ids` (for example a filter's rows)."""
        ids = self._ids(ids)
        if len(ids) == 0:
            return np.zeros(self.manifest["maps"]["shape"], np.float32)
        return self.maps(method, ids).mean(axis=0, dtype=np.float64).astype(np.float32)

    def _ids(self, ids: Ids) -> np.ndarray:
        if ids is None:
            return np.arange(len(self))
        array = np.asarray(ids, dtype=np.int64).reshape(-1)
        bad = array[(array < 0) | (array >= len(self))]
        if bad.size:
            raise ValueError(
                f"Id {int(bad[0])} is out of range; store {str(self.path)!r} has ids "
                f"0..{len(self) - 1}."
            )
        return array

    def _array(self, name: str, shard: int) -> np.ndarray:
        """Array `name` of `shard`, memory-mapped once per store object."""
        if (name, shard) not in self._arrays:
            path = self.path / self.manifest["shards"][shard]["arrays"][name]
            self._arrays[name, shard] = np.load(path, mmap_mode="r")
        return self._arrays[name, shard]

    def _gather(self, name: str, ids: Ids) -> np.ndarray:
        """Rows `ids` of array `name`, shard by shard (only those rows are read)."""
        ids = self._ids(ids)
        shards, offsets = np.divmod(ids, self._shard_size)
        first = self._array(name, 0)
        out = np.empty((len(ids), *first.shape[1:]), dtype=first.dtype)
        for shard in np.unique(shards):
            picked = shards == shard
            out[picked] = self._array(name, int(shard))[offsets[picked]]
        return out

    def _class_mask(self, names: pd.Series, indices: pd.Series, wanted: Classes) -> np.ndarray:
        items = [wanted] if isinstance(wanted, (str, int, np.integer)) else list(wanted)
        by_name = {str(w).lower() for w in items if isinstance(w, str)}
        by_index = {int(w) for w in items if not isinstance(w, str)}
        return names.str.lower().isin(by_name).to_numpy() | indices.isin(by_index).to_numpy()


def _inside(store: Path, name: object) -> bool:
    """Whether manifest entry `name` is a relative path that stays inside `store`."""
    if not isinstance(name, str) or not name or Path(name).is_absolute():
        return False
    root = store.resolve()
    return (root / name).resolve().is_relative_to(root)


def open_store(path: str | os.PathLike) -> Store:
    """Open a store written by `index` (or `emolens index`).

    Only a finished store opens: its manifest is written last, after every shard.

    Raises:
        FileNotFoundError: no store at `path`, or a file the manifest lists is missing.
        ValueError: the store is unfinished (an index run was cut or is running), of
            another format, or its manifest lists files outside the store.
    """
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        if (path / PLAN).is_file():
            raise ValueError(
                f"Store {str(path)!r} is unfinished (an `emolens index` run was cut or is still "
                "running). Rerun it with the same arguments to finish it."
            )
        raise FileNotFoundError(
            f"No store at {str(path)!r} (no {MANIFEST}). Build one with `emolens index --out`."
        )
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise ValueError(
            f"Store {str(path)!r} has format {manifest.get('format')!r}; this emolens reads "
            f"{FORMAT!r}. Index the data again with this version."
        )
    listed = [s["rows"] for s in manifest["shards"]]
    listed += [f for s in manifest["shards"] for f in s["arrays"].values()]
    listed += list(manifest.get("class_means", {}).values())
    outside = [name for name in listed if not _inside(path, name)]
    if outside:
        raise ValueError(
            f"Store {str(path)!r} has a manifest listing {len(outside)} file(s) outside the "
            f"store, e.g. {outside[0]!r}; a store only reads its own files. The manifest was "
            "edited or is not from emolens: index the data again into a new folder."
        )
    missing = [name for name in listed if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Store {str(path)!r} lacks {len(missing)} file(s) its manifest lists, e.g. "
            f"{missing[0]!r}. Index the data again into a new folder."
        )
    return Store(path, manifest)
