"""The TF-free runtime: same face crop as explain.faces, same numbers as Keras, no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from emolens.demo.runtime import OnnxClassifier, analyse, crop_face, overlay
from emolens.explain.faces import decode_image, prepare_faces


def test_crop_face_equals_explain_faces(hopper_png):
    photo = decode_image(hopper_png)
    expected, boxes = prepare_faces(photo, size=48, channels=1)
    face, box = crop_face(photo, 48, 1)
    np.testing.assert_array_equal(face, expected[0])
    assert box == tuple(boxes[0])
    rgb, _ = crop_face(photo, 32, 3)
    np.testing.assert_array_equal(rgb, prepare_faces(photo, size=32, channels=3)[0][0])


def test_crop_face_without_a_face_uses_the_whole_photo_or_refuses():
    photo = np.full((60, 80, 3), 128, np.uint8)
    face, box = crop_face(photo, 48, 1)
    assert box == (0, 0, 80, 60) and face.shape == (48, 48, 1)
    np.testing.assert_allclose(face, 128 / 255, atol=1e-6)
    with pytest.raises(ValueError, match="No face found"):
        crop_face(photo, 48, 1, whole_image_fallback=False)


def test_analyse_equals_keras_and_grad_cam(cam_onnx, default_model, hopper_png):
    from emolens import explain

    model = OnnxClassifier(cam_onnx)
    result = analyse(model, decode_image(hopper_png))
    faces, _ = prepare_faces(hopper_png, size=48, channels=1)
    assert np.max(np.abs(result.probs - default_model.predict(faces, verbose=0)[0])) < 1e-5
    np.testing.assert_allclose(result.cam, explain.grad_cam(default_model, faces)[0], atol=1e-4)
    assert model.classes == ("angry", "happy", "sad") and model.layer == "block4_conv2"
    sad = analyse(model, decode_image(hopper_png), target=2).cam
    np.testing.assert_allclose(sad, explain.grad_cam(default_model, faces, 2)[0], atol=1e-4)
    assert overlay(result.face, result.cam).shape == (240, 240, 3)


def test_bad_inputs_say_how_to_fix_them(cam_onnx, tmp_path):
    model = OnnxClassifier(cam_onnx)
    with pytest.raises(ValueError, match=r"takes images shaped \(N, 48, 48, 1\)"):
        model.predict(np.zeros((1, 32, 32, 1), np.float32))
    with pytest.raises(ValueError, match="targets must be -1"):
        model.explain(np.zeros((1, 48, 48, 1), np.float32), 3)


def test_demo_imports_no_tensorflow(cam_onnx, hopper_png):
    script = f"""
import json, sys
import emolens.cli, emolens.commands.demo
from emolens.demo.ui import analyse_photo, build_demo
from emolens.demo.runtime import OnnxClassifier
build_demo({str(cam_onnx)!r})
import cv2
photo = cv2.cvtColor(cv2.imread({str(hopper_png)!r}), cv2.COLOR_BGR2RGB)
_, probs, heat, details = analyse_photo(OnnxClassifier({str(cam_onnx)!r}), photo)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
print(json.dumps({{"heavy": heavy, "probs": probs}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert sum(report["probs"].values()) == pytest.approx(1.0, abs=1e-5)
