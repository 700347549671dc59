"""Small FER2013 csv/npz files and images written by the data tests."""

from pathlib import Path

import cv2
import numpy as np

from emolens.explain.data.labels import FER7

# FER2013 labels: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral.
CSV_LABELS = [0, 3, 4, 6, 1, 3, 0, 4, 2, 5]
CSV_USAGES = ["Training"] * 6 + ["PublicTest"] * 3 + ["PrivateTest"]


def _pixels(row: int) -> np.ndarray:
    return ((np.arange(48 * 48) + 7 * row) % 256).astype(np.uint8).reshape(48, 48)


def _write_csv(path: Path, rows: list[str] | None = None, header: str = "emotion,pixels,Usage"):
    if rows is None:
        rows = [
            f'{label},"{" ".join(map(str, _pixels(i).ravel()))}",{usage}'
            for i, (label, usage) in enumerate(zip(CSV_LABELS, CSV_USAGES, strict=True))
        ]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _write_npz(folder: Path, split: str, labels: list[int], **arrays) -> None:
    (folder / "fer2013").mkdir(parents=True, exist_ok=True)
    count = len(labels)
    rng = np.random.default_rng(0)
    defaults = {
        "x": rng.integers(0, 256, (count, 48, 48), dtype=np.uint8),
        "y": np.asarray(labels, np.int64),
        "names": np.array([f"Training_{i}.jpg" for i in range(count)]),
        "paths": np.array([f"train/{FER7[y]}/Training_{i}.jpg" for i, y in enumerate(labels)]),
        "orig_index": np.arange(count, dtype=np.int64),
        "ferplus_votes": np.zeros((count, 10), np.int16),
        "classes": np.array(FER7),
    }
    np.savez(folder / "fer2013" / f"{split}.npz", **{**defaults, **arrays})


def _write_image(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cv2.imencode(path.suffix, image)[1].tobytes())
