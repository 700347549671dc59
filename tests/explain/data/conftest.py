"""Image-folder layouts shared by the folder and entry-point tests."""

from pathlib import Path

import numpy as np
import pytest

from tests.explain.data.files import _write_image


@pytest.fixture
def kaggle_folder(tmp_path) -> Path:
    """Kaggle FER2013 layout: train/test, lowercase classes, 48x48 gray PNGs."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("test", 2)):
        for name in ("angry", "disgust", "happy", "sad", "neutral"):
            for i in range(count):
                gray = rng.integers(0, 256, (48, 48), dtype=np.uint8)
                _write_image(tmp_path / split / name / f"{split}_{i}.png", gray)
    return tmp_path


@pytest.fixture
def human_folder(tmp_path) -> Path:
    """Human Emotions Dataset layout: Angry/Happy/Sad colour JPEGs of different sizes."""
    rng = np.random.default_rng(1)
    for k, name in enumerate(("Angry", "HAPPY", "Sad")):
        for i, (h, w) in enumerate([(120, 90), (64, 200), (300, 300)][: k + 1]):
            colour = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            _write_image(tmp_path / "photos" / name / f"img{i}.jpg", colour)
    return tmp_path / "photos"
