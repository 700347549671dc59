"""Expand the command line's PATHS: files, folders (recursive) and glob patterns."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path

from emolens.explain.report.records import FileError

IMAGE_SUFFIXES = frozenset(
    ".jpg .jpeg .jpe .png .gif .bmp .dib .webp .tif .tiff .ppm .pgm .pbm .pnm .sr .ras .jp2".split()
)
"""Suffixes picked up inside folders (a file named explicitly is tried whatever its suffix)."""


def collect_paths(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[FileError]]:
    """Image files named by `paths`, in order, each once; and the paths that matched nothing.

    A file is taken as it is (a non-image fails later, with its reason). A folder gives the
    files with an image suffix under it, recursively, sorted. A path that does not exist is
    read as a glob pattern (`*`, `?`, `[...]`, `**` recursive); files it matches are taken,
    folders it matches are expanded.

    Returns:
        files: the files, duplicates dropped.
        missing: one `FileError` per path that is neither a file, a folder nor a match, or
            that is a folder (or matches folders) without image files.
    """
    files: dict[Path, None] = {}
    missing: list[FileError] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.exists():
            matches = [path]
        else:
            matches = [Path(match) for match in sorted(glob.glob(str(path), recursive=True))]
        if not matches:
            missing.append(FileError(str(raw), "not found (no such file, folder or glob match)"))
            continue
        found = [file for match in matches for file in _files_under(match)]
        if not found:
            missing.append(FileError(str(raw), "no image files in this folder (or its subfolders)"))
        for file in found:
            files.setdefault(file, None)
    return list(files), missing


def _files_under(path: Path) -> list[Path]:
    """[path] for a file; image files under a folder, recursively, sorted."""
    if not path.is_dir():
        return [path]
    return sorted(
        file
        for file in path.rglob("*")
        if file.suffix.lower() in IMAGE_SUFFIXES and file.is_file() and not _hidden(file, path)
    )


def _hidden(file: Path, root: Path) -> bool:
    """True for dot-files and files in dot-folders below `root` (e.g. our own temp files)."""
    return any(part.startswith(".") for part in file.relative_to(root).parts)
