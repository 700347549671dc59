"""Halve `.keras` models for a GPU lease's --init runs (run here; see models/gpu/prepare.sh).

Usage: python models/gpu/pack_init.py OUT_DIR MODEL.keras [MODEL.keras ...]

A lease's call carries at most 64 MiB, and the FER2013 pack takes most of it. This writes each
model to OUT_DIR under its own name with its float32 weights stored as float16 (a VGG goes from
8.6 to 4.3 MB); nothing else changes (config, other dtypes). Keras casts them back to float32
as it loads them into the model's variables, so the copy loads as the same model with weights
rounded to ~3 significant digits: a starting point for training, never a model to ship. Each
file is written whole (temp file, then rename: emolens.explain._atomic).
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import h5py
import numpy as np

from emolens.explain._atomic import atomic_file

WEIGHTS = "model.weights.h5"


def halve(src: Path, out: Path) -> int:
    """Write `src` (a .keras zip) to `out` with float32 weights as float16; returns bytes written.

    Raises:
        ValueError: `src` is not a .keras file (a zip holding model.weights.h5).
    """
    if not zipfile.is_zipfile(src):
        raise ValueError(f"{src} is not a .keras file (a zip archive); save the model as .keras.")
    with zipfile.ZipFile(src) as zin:
        names = zin.namelist()
        if WEIGHTS not in names:
            raise ValueError(f"{src} holds no {WEIGHTS} ({names}); is it a Keras 3 .keras file?")
        members = {name: zin.read(name) for name in names}
    members[WEIGHTS] = _halved(members[WEIGHTS])
    with atomic_file(out, "wb") as file, zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return out.stat().st_size


def _halved(h5: bytes) -> bytes:
    source = h5py.File(io.BytesIO(h5), "r")
    buffer = io.BytesIO()
    with source, h5py.File(buffer, "w") as target:
        for key, value in source.attrs.items():
            target.attrs[key] = value

        def copy(name, obj):
            if isinstance(obj, h5py.Group):
                group = target.require_group(name)
                for key, value in obj.attrs.items():
                    group.attrs[key] = value
                return
            data = obj[()]
            if isinstance(data, np.ndarray) and data.dtype == np.float32:
                data = data.astype(np.float16)
            target.create_dataset(name, data=data)
            for key, value in obj.attrs.items():
                target[name].attrs[key] = value

        source.visititems(copy)
    return buffer.getvalue()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("models", type=Path, nargs="+")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for model in args.models:
        size = halve(model, args.out_dir / model.name)
        print(f"{model} -> {args.out_dir / model.name}: {size / 1e6:.1f} MB")
