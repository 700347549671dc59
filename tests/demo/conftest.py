"""The default bundled model exported with Grad-CAM, and a PNG photo with one face."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path

import cv2
import pytest
from matplotlib import cbook

GRACE = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="session")
def hopper_png(tmp_path_factory) -> Path:
    """Grace Hopper as PNG: lossless, so Gradio (PIL) and OpenCV decode the same pixels."""
    path = tmp_path_factory.mktemp("photos") / "hopper.png"
    cv2.imwrite(str(path), cv2.imread(str(GRACE)))
    return path


@pytest.fixture(scope="session")
def default_model():
    from emolens import models

    return models.load()


@pytest.fixture(scope="session")
def cam_onnx(default_model, tmp_path_factory) -> Path:
    from emolens.models.export import export_onnx

    path = tmp_path_factory.mktemp("onnx") / "default_cam.onnx"
    export_onnx(default_model, path, with_cam=True, name="vgg_emo3_soup")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(url: str, process, seconds: float = 240.0) -> None:
    """Poll `url` until it answers; fail with the server's output if it dies or times out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1.0)
    process.kill()
    pytest.fail(f"server at {url} did not answer in {seconds} s: {process.stdout.read()}")


def analyse_remote(url: str, photo: Path) -> dict:
    """Call the demo's 'analyse' endpoint with gradio_client; the details dict comes back."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    face, label, heat, details = client.predict(
        handle_file(str(photo)), "predicted class", api_name="/analyse"
    )
    assert Path(face).is_file() and Path(heat).is_file()
    return details
