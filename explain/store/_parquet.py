"""Faces from Parquet shards: one file or a folder of `*.parquet`, an encoded image per row.

Columns: `image`, the encoded file's bytes (PNG, JPEG, ...), or a struct with a `bytes`
field (the Hugging Face `datasets` layout); `label`, a class name or a FER2013 label index
(0 angry ... 6 neutral); optional `file`. Rows are read in file-name order, then row order.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from emolens.explain.data import Dataset
from emolens.explain.data.labels import FER7
from emolens.explain.store._build import FaceBuilder


def parquet_files(path: Path) -> list[Path]:
    """The Parquet files of `path`: itself, or a folder's `*.parquet`, sorted by name."""
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"Folder {str(path)!r} holds no *.parquet file.")
    return files


def _image_bytes(column: pa.ChunkedArray) -> list[bytes]:
    if pa.types.is_struct(column.type):
        column = pa.chunked_array([chunk.field("bytes") for chunk in column.chunks])
    return column.to_pylist()


def _label_names(column: pa.ChunkedArray) -> list[str]:
    values = column.to_pylist()
    if pa.types.is_integer(column.type):
        return [FER7[v] if 0 <= v < len(FER7) else "" for v in values]
    return [str(v).lower() for v in values]


def load_parquet_faces(
    path: str | Path, class_set: str, size: int = 48, channels: int = 1
) -> Dataset:
    """float32 (N, size, size, channels) faces in [0, 1] of the rows whose class is in the set.

    Extras: "paths" (the `file` column, else "<parquet file>#<row>") and "orig_index" (the
    row's position over all files), as the other loaders give them.

    Raises:
        FileNotFoundError: no Parquet file. ValueError: no `image`/`label` column, or no row
            of a class of `class_set`.
    """
    kept, position = FaceBuilder(class_set, size, channels), 0
    for file in parquet_files(Path(path)):
        table = pq.read_table(file)
        if not {"image", "label"} <= set(table.column_names):
            raise ValueError(
                f"Parquet file {str(file)!r} has columns {table.column_names}; faces need an "
                "'image' column (encoded bytes) and a 'label' column (class name or FER index)."
            )
        given = table["file"].to_pylist() if "file" in table.column_names else None
        for row, (data, label) in enumerate(
            zip(_image_bytes(table["image"]), _label_names(table["label"]), strict=True)
        ):
            kept.add(label, data, given[row] if given else f"{file}#{row}", position + row)
        position += table.num_rows
    return kept.dataset("row", path)
