"""Re-pack the FER2013 npz files small enough to travel to a lent GPU machine (run here).

Usage: python models/gpu/pack_data.py DATA_DIR OUT.tar.xz [--classes emo3|fer7]
       [--no-test]

Keeps what `emolens train` reads (x, y, orig_index, ferplus_votes) of the chosen classes'
rows, as uncompressed npz inside one xz tar: 50.3 MB for fer7, 44.9 MB with --no-test (the
shared npz files are 69 MB; emo3 keeps 57% of the rows). The file is written whole (temp
file, then rename: emolens.explain._atomic). Never commit it: the data may not be redistributed
(../shared/data/README.md).
"""

from __future__ import annotations

import argparse
import io
import lzma
import tarfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from emolens.explain._atomic import atomic_file

KEYS = ("x", "y", "orig_index", "ferplus_votes")
# Each byte minus the one 48 earlier (the pixel above, inside a 48x48 image), then LZMA2 at
# its strongest: 12% smaller than plain xz -6 on these faces (50.3 MB, was 56.9); `tar -xJ`
# undoes both.
FILTERS = [
    {"id": lzma.FILTER_DELTA, "dist": 48},
    {"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME},
]
SPLITS = ("train.npz", "publictest.npz")
FER7_OF = {"emo3": (0, 3, 4), "fer7": tuple(range(7))}  # FER2013 labels kept


def pack(
    data: Path, out: Path, classes: str = "fer7", splits: tuple[str, ...] = SPLITS
) -> dict[str, int]:
    """Write `out` with the `splits` files; returns {split file: rows kept}."""
    if classes not in FER7_OF:
        raise ValueError(f"classes must be emo3 or fer7; got {classes!r}.")
    kept = {}
    with atomic_file(out, "wb") as file:
        _write(data, file, FER7_OF[classes], splits, kept)
    return kept


def _write(
    data: Path, file: BinaryIO, labels: tuple[int, ...], splits: tuple[str, ...], kept: dict
) -> None:
    with lzma.open(file, "wb", filters=FILTERS) as xz, tarfile.open(fileobj=xz, mode="w") as tar:
        for name in splits:
            path = data / "fer2013" / name
            if not path.is_file():
                raise FileNotFoundError(f"{path} not found: pass the folder holding fer2013/.")
            with np.load(path, allow_pickle=False) as npz:
                rows = np.isin(npz["y"], labels)
                arrays = {k: npz[k][rows] for k in KEYS if k in npz.files}
            buffer = io.BytesIO()
            np.savez(buffer, **arrays)
            info = tarfile.TarInfo(f"fer2013/{name}")
            info.size = buffer.tell()
            buffer.seek(0)
            tar.addfile(info, buffer)
            kept[name] = int(rows.sum())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--classes", default="fer7", choices=sorted(FER7_OF))
    parser.add_argument(
        "--no-test",
        action="store_true",
        help="leave publictest.npz out (5 MB less; the cards' test numbers then come from "
        "`emolens evaluate --update-card` here)",
    )
    args = parser.parse_args()
    splits = SPLITS[:1] if args.no_test else SPLITS
    kept = pack(args.data, args.out, args.classes, splits)
    print(kept, f"{args.out.stat().st_size / 1e6:.1f} MB")
