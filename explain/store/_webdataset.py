"""Faces from WebDataset-style tar shards: one `.tar` or a folder of `*.tar`, read as a stream.

A sample is the group of consecutive members that share a key (the member's path up to the
first dot of its file name, the WebDataset convention): `<key>.png` (or jpg, jpeg, webp, bmp,
tif, tiff) holds the encoded face; its label is `<key>.cls` (a FER2013 label index 0 angry ...
6 neutral, or a class name), `<key>.txt` (a class name) or `<key>.json` (`{"label": ...}`).
Shards are read in file-name order, samples in tar order; members are never extracted to disk,
so a member named `../x` cannot write anywhere.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

from emolens.explain.data import Dataset
from emolens.explain.data.labels import FER7
from emolens.explain.store._build import FaceBuilder

IMAGE_EXTENSIONS = ("png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff")
LABEL_EXTENSIONS = ("cls", "txt", "json")


def tar_files(path: Path) -> list[Path]:
    """The shards of `path`: itself, or a folder's `*.tar`, sorted by name."""
    files = sorted(path.glob("*.tar")) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"Folder {str(path)!r} holds no *.tar shard.")
    return files


def _split_name(name: str) -> tuple[str, str]:
    """'dir/face01.cls' -> ('dir/face01', 'cls'); the key ends at the file name's first dot."""
    folder, _, base = name.rpartition("/")
    stem, _, extension = base.partition(".")
    return (f"{folder}/{stem}" if folder else stem), extension.lower()


def _samples(shard: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {extension: bytes}) per sample, streaming through the tar file."""
    key, parts = None, {}
    try:
        with tarfile.open(shard, mode="r|*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                name, extension = _split_name(member.name)
                if name != key and parts:
                    yield key, parts
                    parts = {}
                key = name
                parts[extension] = tar.extractfile(member).read()
    except tarfile.TarError as error:
        raise ValueError(
            f"Shard {str(shard)!r} is not a readable tar file ({error}). Write shards with "
            "`tar cf` or the `webdataset` package's TarWriter."
        ) from error
    if parts:
        yield key, parts


def _label(parts: dict[str, bytes], key: str, shard: Path) -> str:
    for extension in LABEL_EXTENSIONS:
        if extension in parts:
            text = parts[extension].decode("utf-8").strip()
            if extension == "json":
                text = str(json.loads(text).get("label", "")).strip()
            if text.lstrip("-").isdigit():
                index = int(text)
                return FER7[index] if 0 <= index < len(FER7) else ""
            return text.lower()
    raise ValueError(
        f"Sample {key!r} of {str(shard)!r} has no label: add {key}.cls (a FER2013 index or a "
        f"class name), {key}.txt or {key}.json with a 'label' field."
    )


def load_tar_faces(path: str | Path, class_set: str, size: int = 48, channels: int = 1) -> Dataset:
    """float32 (N, size, size, channels) faces in [0, 1] of the samples whose class is in the set.

    Extras: "paths" ("<shard>#<key>") and "orig_index" (the sample's position over all shards,
    counting samples of other classes), as the other loaders give them.

    Raises:
        FileNotFoundError: no shard. ValueError: a shard is not a tar file, a sample has no
            image or no label, or no sample has a class of `class_set`.
    """
    kept, position = FaceBuilder(class_set, size, channels), 0
    for shard in tar_files(Path(path)):
        for key, parts in _samples(shard):
            image = next((parts[e] for e in IMAGE_EXTENSIONS if e in parts), None)
            if image is None:
                raise ValueError(
                    f"Sample {key!r} of {str(shard)!r} has no image (members: "
                    f"{', '.join(sorted(parts))}); name it {key}.png or {key}.jpg."
                )
            kept.add(_label(parts, key, shard), image, f"{shard}#{key}", position)
            position += 1
    return kept.dataset("sample", path)
