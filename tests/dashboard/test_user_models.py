"""Models the dashboard did not expect, on every page that takes a model: a message, no crash.

Before, the Attention and Trust pages raised Streamlit's red traceback for a --model that
cannot load, a model without a spatial layer, or one with a variable input size.
"""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import TINY, messages, new_app, page
from tests.toy_models import tiny_cnn

PAGES = ("views/layers.py", "views/attention.py", "views/trust.py")


@pytest.mark.parametrize("path", PAGES)
def test_a_model_that_cannot_load_is_reported(app_env, user_model, path):
    user_model(app_env["dense"], "neg,pos")  # 3 outputs, 2 class names
    at = page(new_app().run(), path)
    assert not at.exception
    assert any("3 outputs but 2 class names" in e for e in messages(at)["error"])


@pytest.mark.parametrize("path", PAGES)
def test_a_model_with_a_variable_input_size_is_reported(app_env, user_model, tmp_path, path):
    model_file = tmp_path / "any_size.keras"
    tiny_cnn((None, None, 1), 3).save(model_file)
    user_model(model_file, "emo3")
    at = page(new_app().run(), path)
    assert not at.exception
    (error,) = [e for e in messages(at)["error"] if "any_size.keras" in e]
    assert "(None, None, 1)" in error and "keras.Input(shape=(48, 48, 1))" in error


def test_a_model_without_a_spatial_layer_on_trust_and_attention(app_env, user_model):
    user_model(app_env["dense"], "emo3")
    at = page(new_app().run(), "views/trust.py")  # grad_cam by default
    assert not at.exception and not messages(at)["error"]
    assert any(
        m.startswith("grad_cam cannot explain dense_only.keras") and "Pick saliency" in m
        for m in messages(at)["info"]
    )
    at.selectbox(key="trust_model").select(TINY).run()  # a CNN: its sanity check runs ...
    at.toggle(key="trust_sanity").set_value(True).run()
    assert not at.exception
    at.selectbox(key="trust_model").select("dense_only.keras (yours)").run()
    assert not at.exception and not messages(at)["error"]  # ... then no map, no check
    at.selectbox(key="trust_method").select("saliency").run()
    assert not at.exception and len(at.metric) == 3
    at = page(at, "views/attention.py")  # the CNN to compare with defaults to the user's
    assert not at.exception and not messages(at)["error"]
    assert any("no layer with a spatial output" in m for m in messages(at)["info"])


def test_a_fer7_model_without_fer2013_says_what_to_do(app_env):
    at = page(new_app().run(), "views/dataset.py")
    at.selectbox(key="dataset_model").select("vgg_fer7_soup_ft").run()
    assert not at.exception
    (error,) = messages(at)["error"]
    assert "FER2013 is not here" in error and "show no disgust, fear, surprise, neutral" in error
    assert "emolens data download fer2013" in error and "pick an emo3 model" in error


@pytest.mark.parametrize(
    ("classes", "refused"), [("Angry,Happy,Sad", False), ("neg,mid,pos", False), ("fer7", True)]
)
def test_only_fer_classes_synthetic_faces_lack_are_sent_to_fer2013(
    app_env, user_model, tmp_path, classes, refused
):
    """Class names in other case index synthetic faces as before; names that are no FER class
    are not told to fetch FER2013 (it would not help)."""
    model_file = app_env["cnn"]
    if classes == "fer7":
        model_file = tmp_path / "seven.keras"
        tiny_cnn((48, 48, 1), 7).save(model_file)
    user_model(model_file, classes)
    at = page(new_app().run(), "views/dataset.py")
    assert not at.exception
    errors = " ".join(messages(at)["error"])
    assert ("FER2013 is not here" in errors) is refused
