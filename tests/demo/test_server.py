"""`emolens demo` served on 127.0.0.1 and called over HTTP with gradio_client."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from emolens.explain.faces import prepare_faces
from tests.demo.conftest import analyse_remote, free_port, wait_for_http


def test_demo_serves_the_keras_probabilities(cam_onnx, default_model, hopper_png):
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "emolens", "demo", "--onnx", str(cam_onnx)]
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, server)
        details = analyse_remote(url, hopper_png)
    finally:
        server.terminate()
        server.wait(timeout=30)
    faces, boxes = prepare_faces(hopper_png, size=48, channels=1)
    expected = default_model.predict(faces, verbose=0)[0]
    served = np.array([details["probs"][name] for name in ("angry", "happy", "sad")])
    assert np.max(np.abs(served - expected)) < 1e-5
    assert details["box"] == boxes[0].tolist() and details["layer"] == "block4_conv2"
    assert details["predicted"] == ("angry", "happy", "sad")[int(expected.argmax())]
