"""The main page, driven headlessly: probabilities, heatmaps, targets, layers, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emolens import models
from emolens.explain.data.synthetic import demo_faces
from emolens.explain.report import predict_probs
from tests.dashboard.conftest import TINY, captions, messages, new_app, plotly_specs

DEMO_HAPPY = "demo face 5 (happy)"
METHODS = ("grad_cam", "grad_cam_pp", "layer_cam", "saliency")


def _explain_tiny(sample: str = DEMO_HAPPY):
    at = new_app().run()
    at.multiselect(key="models").set_value([TINY])
    at.selectbox(key="sample").select(sample)
    return at.run()


def test_probabilities_are_the_models_own_on_the_demo_face(app_env):
    at = _explain_tiny()
    assert not at.exception
    face = np.rint(demo_faces().images[4] * 255) / 255  # the page sees the face as uint8 RGB
    expected = predict_probs(models.load(TINY), face[None].astype(np.float32))[0]
    (bars,) = plotly_specs(at)[0]["data"]
    assert bars["x"] == ["angry", "happy", "sad"]
    np.testing.assert_allclose(bars["y"], expected, atol=1e-6)
    top = int(np.argmax(expected))
    assert at.subheader[0].value.startswith(f"{TINY}: {bars['x'][top]} ")
    shown = captions(at)
    assert shown[0] == DEMO_HAPPY  # the photo, then one overlay per method
    assert [c.split(" (")[0] for c in shown[1:]] == list(METHODS)
    assert len(at.get("download_button")) == len(METHODS) + 2  # overlay PNGs + HTML + PDF


def test_a_chosen_class_and_layer_reach_the_maps(app_env):
    at = _explain_tiny()
    target = next(box for box in at.selectbox if box.label == "Class to explain")
    layer = next(box for box in at.selectbox if box.label.startswith("Layer"))
    assert "conv1" in layer.options and "feat" in layer.options
    target.select("sad")
    layer.select("conv1")
    at.run()
    assert not at.exception
    assert "Explaining class **sad**" in at.caption[0].value
    assert "grad_cam (conv1)" in captions(at)
    assert "saliency (input)" in captions(at)


def test_default_model_finds_grace_hoppers_face(app_env):
    at = new_app().run()  # the default model and the first sample, Grace Hopper
    assert not at.exception
    assert at.multiselect(key="models").value == [models.default_model()]
    assert at.selectbox(key="sample").value.startswith("Grace Hopper")
    assert not messages(at)["warning"] and not messages(at)["error"]
    assert at.subheader[0].value.startswith(f"{models.default_model()}: ")
    assert len(captions(at)) == 1 + len(METHODS)


def _upload(at, name: str, data: bytes, mime: str = "image/png"):
    at.radio(key="source").set_value("Upload").run()
    at.file_uploader(key="upload").upload(name, data, mime)
    return at.run()


def _png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("notes.jpg", b"these bytes are not an image", "not an image"),
        ("empty.png", b"", "empty"),
        ("huge.png", None, "limit is 40 MP"),
        ("heavy.png", b"\x89PNG" + bytes(21 * 2**20), "the limit is 20 MiB"),
    ],
)
def test_a_bad_upload_says_why_and_the_page_keeps_working(app_env, name, data, expected):
    if data is None:  # 8000 x 6000 black pixels compress to a small file
        data = _png(np.zeros((6000, 8000), np.uint8))
    at = new_app().run()
    at.multiselect(key="models").set_value([TINY])
    at = _upload(at, name, data)
    assert not at.exception
    (error,) = messages(at)["error"]
    assert f"Cannot use {name!r}" in error and expected in error
    at.radio(key="source").set_value("Sample").run()  # the rest still works
    assert not at.exception and at.subheader[0].value.startswith(TINY)


def test_a_photo_without_a_face_asks_to_turn_detection_off(app_env):
    gray = np.full((240, 320, 3), 128, np.uint8)
    at = new_app().run()
    at.multiselect(key="models").set_value([TINY])
    at = _upload(at, "wall.png", _png(gray))
    assert not at.exception
    (warning,) = messages(at)["warning"]
    assert "no face found in the 320x240 photo" in warning and "No face detection" in warning
    assert not at.subheader
    at.checkbox(key="no_detect").check().run()
    assert not at.exception and not messages(at)["warning"]
    assert at.subheader[0].value.startswith(TINY)


def test_a_model_without_conv_layers_keeps_its_gradient_maps(app_env, user_model):
    user_model(app_env["dense"], "emo3")
    at = new_app().run()
    at.selectbox(key="sample").select(DEMO_HAPPY)
    at.run()
    assert not at.exception
    assert at.multiselect(key="models").value == ["dense_only.keras (yours)"]
    notes = messages(at)["info"]
    for method in ("grad_cam", "grad_cam_pp", "layer_cam"):
        assert any(note.startswith(f"**{method}** cannot explain this model") for note in notes)
    assert [c for c in captions(at) if c.startswith("saliency")] == ["saliency (input)"]


def test_a_user_model_with_the_wrong_class_count_is_reported(app_env, user_model):
    user_model(app_env["dense"], "neg,pos")
    at = new_app().run()
    assert not at.exception
    (error,) = messages(at)["error"]
    assert "could not be loaded" in error and "3 outputs but 2 class names" in error
