"""Get FER2013: download fer2013.csv from Kaggle (or use a copy placed by hand), convert to npz."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from emolens.explain.data.csv import read_fer2013_csv
from emolens.explain.data.labels import FER7

COMPETITION = "challenges-in-representation-learning-facial-expression-recognition-challenge"
COMPETITION_URL = f"https://www.kaggle.com/c/{COMPETITION}/data"
NPZ_USAGES = {"train": "Training", "publictest": "PublicTest"}
CSV_NAMES = ("fer2013.csv", "icml_face_data.csv")  # both hold emotion, pixels, Usage


def download_fer2013(dest: str | os.PathLike | None = None, force: bool = False) -> Path:
    """Make `<dest>/fer2013/train.npz` and `publictest.npz` from fer2013.csv.

    Uses a fer2013.csv (or Kaggle's icml_face_data.csv) already in `dest` or
    `dest/fer2013/`; otherwise downloads it with the Kaggle command-line tool, which
    needs `pip install kaggle`, an API token and the competition rules accepted.

    Args:
        dest: data folder; default $EMOLENS_DATA, else ~/.cache/emolens.
        force: convert again even when both npz files exist.

    Returns:
        The data folder (pass it as --data, or set EMOLENS_DATA to it).

    Raises:
        FileNotFoundError: no csv here and no `kaggle` command to download it.
        RuntimeError: the download failed (no token, rules not accepted, no network).
        Both messages say how to get fer2013.csv by hand and where to put it.
    """
    dest = Path(dest or os.environ.get("EMOLENS_DATA") or Path.home() / ".cache" / "emolens")
    folder = dest.expanduser() / "fer2013"
    targets = [folder / f"{split}.npz" for split in NPZ_USAGES]
    if not force and all(path.is_file() for path in targets):
        return folder.parent
    csv_path = find_fer2013_csv(folder.parent) or _kaggle_download(folder)
    convert_fer2013_csv(csv_path, folder.parent)
    return folder.parent


def find_fer2013_csv(dest: Path) -> Path | None:
    """A fer2013.csv or icml_face_data.csv in `dest` or `dest/fer2013`, else None."""
    for folder in (dest / "fer2013", dest):
        for name in CSV_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def convert_fer2013_csv(csv_path: str | os.PathLike, dest: str | os.PathLike) -> dict[str, Path]:
    """Write the Training and PublicTest rows of a fer2013.csv as emolens npz files.

    Each file `<dest>/fer2013/<split>.npz` holds x uint8 (N, 48, 48), y int64 (N,)
    original labels, orig_index int64 (N,) csv data rows, and the class names; it is
    written to a temporary name first, so it appears whole or not at all.

    Args:
        csv_path: fer2013.csv (columns emotion, pixels, Usage).
        dest: data folder; `fer2013/` is created inside it.

    Returns:
        {"train": path, "publictest": path}.

    Raises:
        FileNotFoundError / ValueError: from `read_fer2013_csv`, naming the bad row.
    """
    folder = Path(dest) / "fer2013"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for split, usage in NPZ_USAGES.items():
        pixels, labels, rows = read_fer2013_csv(csv_path, usage)
        written[split] = _save_npz(
            folder / f"{split}.npz", x=pixels, y=labels, orig_index=rows, classes=np.array(FER7)
        )
    return written


def _temp_beside(path: Path) -> Path:
    """A fresh hidden temporary name in the folder of `path` (same file system)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _save_npz(path: Path, **arrays: np.ndarray) -> Path:
    """np.savez_compressed to a temporary file beside `path`, then rename it."""
    temp = _temp_beside(path)
    try:
        with temp.open("xb") as file:
            np.savez_compressed(file, **arrays)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def _manual_help(folder: Path) -> str:
    """How to get fer2013.csv without the Kaggle tool."""
    return (
        f"To get FER2013 by hand: sign in to Kaggle, accept the rules at {COMPETITION_URL}, "
        "download fer2013.tar.gz (or icml_face_data.csv), extract fer2013.csv and put it at "
        f"{str(folder / 'fer2013.csv')!r}; then run `emolens data download fer2013` again "
        "(it converts the csv without the network). To download automatically instead: "
        "`pip install kaggle`, save your API token (kaggle.com > Settings > API) as "
        "~/.kaggle/kaggle.json, accept the competition rules, and rerun."
    )


def _kaggle_command() -> str | None:
    """Path of the `kaggle` command (on PATH or beside this Python), else None."""
    beside = Path(sys.executable).parent / "kaggle"
    return shutil.which("kaggle") or (str(beside) if beside.is_file() else None)


def _kaggle_download(folder: Path) -> Path:
    """Download the competition files with the Kaggle CLI; return the extracted csv."""
    command = _kaggle_command()
    if command is None:
        raise FileNotFoundError(
            f"No fer2013.csv in {str(folder)!r} and the `kaggle` command is not installed. "
            + _manual_help(folder)
        )
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download.") as temp:
        result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
            [command, "competitions", "download", "-c", COMPETITION, "-p", temp],
            capture_output=True,
            text=True,
            check=False,
        )
        archives = sorted(Path(temp).glob("*.zip"))
        if result.returncode != 0 or not archives:
            detail = (result.stderr or result.stdout).strip()[-500:]
            raise RuntimeError(
                f"`kaggle competitions download -c {COMPETITION}` failed (exit "
                f"{result.returncode}): {detail or 'no archive was written'}. A 401 means no "
                "or a wrong API token; a 403 means the competition rules are not accepted. "
                + _manual_help(folder)
            )
        return _extract_csv(archives[0], folder)


def _extract_csv(archive: Path, folder: Path) -> Path:
    """Copy fer2013.csv out of Kaggle's zip (directly or inside fer2013.tar.gz) into `folder`.

    Only that one member is read, so member names cannot write outside `folder`.

    Raises:
        RuntimeError: the archive holds no FER2013 csv.
    """
    target = folder / "fer2013.csv"
    with zipfile.ZipFile(archive) as bundle:
        by_name = {Path(name).name: name for name in bundle.namelist()}
        for name in CSV_NAMES:
            if name in by_name:
                with bundle.open(by_name[name]) as source:
                    return _copy_atomic(source, target)
        if "fer2013.tar.gz" in by_name:
            with bundle.open(by_name["fer2013.tar.gz"]) as packed:
                with tarfile.open(fileobj=packed, mode="r|gz") as tar:
                    for member in tar:
                        if member.isfile() and Path(member.name).name == "fer2013.csv":
                            return _copy_atomic(tar.extractfile(member), target)
    raise RuntimeError(
        f"The Kaggle archive {str(archive)!r} holds no fer2013.csv (members: "
        f"{', '.join(sorted(by_name))}). " + _manual_help(folder)
    )


def _copy_atomic(source: IO[bytes], target: Path) -> Path:
    """Stream `source` into `target` through a temporary file and a rename."""
    temp = _temp_beside(target)
    try:
        with temp.open("xb") as file:
            shutil.copyfileobj(source, file)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


__all__ = ["convert_fer2013_csv", "download_fer2013", "find_fer2013_csv"]
