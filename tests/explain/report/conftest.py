"""Shared fixtures: a real photo with a face, a tiny emo3 model, bad files, the CLI runner."""

import shutil

import cv2
import keras
import numpy as np
import pytest
from matplotlib import cbook

from emolens.cli import main
from emolens.models import zoo

GRACE = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)  # 512x600, one face


@pytest.fixture(scope="session")
def tiny_model():
    """A random tiny emo3 VGG (48x48x1) with class names."""
    keras.utils.set_random_seed(0)
    return zoo.build("vgg", "emo3", (48, 48, 1), widths=(4,))


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory, tiny_model):
    path = tmp_path_factory.mktemp("tiny") / "tiny.keras"
    tiny_model.save(path)
    return path


def write_bad_files(folder):
    """A corrupt JPEG, a text file named .jpg and a photo without a face; returns their names."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corrupt.jpg").write_bytes(open(GRACE, "rb").read()[:400])
    (folder / "text.jpg").write_text("this is not an image\n")
    wall = np.full((240, 320, 3), 150, np.uint8)
    cv2.rectangle(wall, (40, 40), (120, 200), (60, 90, 200), -1)
    cv2.imwrite(str(folder / "no_face.png"), wall)
    return {"corrupt.jpg", "text.jpg", "no_face.png"}


def copy_grace(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(GRACE, folder / name)


def run_cli(capsys, *args):
    """(exit code, stdout, stderr) of `emolens explain ARGS --no-progress`."""
    code = main(["explain", *map(str, args), "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err
