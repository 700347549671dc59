"""Shared inputs of the ONNX export tests: real-looking and synthetic faces, exported files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib import cbook

GRACE = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="session")
def faces_48() -> np.ndarray:
    """float32 (7, 48, 48, 1): Grace Hopper's face crop, a mirrored copy and 5 synthetic faces."""
    from emolens.explain.data.synthetic import faces
    from emolens.explain.faces import prepare_faces

    hopper, _ = prepare_faces(GRACE, size=48, channels=1)
    synthetic = faces(5, seed=3).images
    return np.concatenate([hopper[:1], hopper[:1, :, ::-1], synthetic]).astype(np.float32)


@pytest.fixture(scope="session")
def default_model():
    from emolens import models

    return models.load()


@pytest.fixture(scope="session")
def default_cam_onnx(default_model, tmp_path_factory) -> Path:
    """The default bundled model exported with Grad-CAM inside (once per session)."""
    from emolens.models.export import export_onnx

    path = tmp_path_factory.mktemp("onnx") / "default_cam.onnx"
    export_onnx(default_model, path, with_cam=True, name="vgg_emo3_soup")
    return path
