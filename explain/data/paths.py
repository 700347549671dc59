"""Where the data lives: an explicit folder, $EMOLENS_DATA, ../shared/data or ~/.cache/emolens."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data folder: `path`, else $EMOLENS_DATA, else ../shared/data, else ~/.cache/emolens.

    Raises:
        FileNotFoundError: an explicitly given folder (argument or $EMOLENS_DATA) is missing.
    """
    explicit = path if path is not None else os.environ.get("EMOLENS_DATA")
    if explicit:
        folder = Path(explicit).expanduser()
        if not folder.is_dir():
            source = "EMOLENS_DATA" if path is None else "--data"
            raise FileNotFoundError(
                f"Data folder {str(folder)!r} (from {source}) does not exist. "
                "Point it at the folder holding fer2013/, or run `emolens data download fer2013`."
            )
        return folder
    for folder in (Path("../shared/data"), Path.home() / ".cache" / "emolens"):
        if folder.is_dir():
            return folder.resolve()
    return Path.home() / ".cache" / "emolens"


__all__ = ["data_dir"]
