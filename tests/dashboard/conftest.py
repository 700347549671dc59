"""Dashboard test fixtures: tiny models registered in the zoo, a private store cache, AppTest."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from emolens import models
from tests.toy_models import linear_pixel_model, tiny_cnn

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
TINY = "tiny_dashboard_cnn"
TINY2 = "tiny_dashboard_cnn2"
DENSE_FILE = "dense_only.keras"
ENV = (
    "EMOLENS_DASHBOARD_MODEL",
    "EMOLENS_DASHBOARD_CLASSES",
    "EMOLENS_DASHBOARD_INPUT_RANGE",
    "EMOLENS_DASHBOARD_STORE",
)


@pytest.fixture(scope="package")
def dashboard_models(tmp_path_factory):
    """A tiny emo3 CNN registered as TINY (card beside it), and a dense-only model file.

    The registrations are removed after the last dashboard test, so later tests see only the
    bundled models in `models.bundled()`.
    """
    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("dashboard_models")
    cnn_path = folder / f"{TINY}.keras"
    tiny_cnn((48, 48, 1), 3).save(cnn_path)
    cnn_path.with_suffix(".json").write_text(json.dumps({"classes": ["angry", "happy", "sad"]}))
    models.register(TINY, cnn_path)
    keras.utils.set_random_seed(1)
    cnn2_path = folder / f"{TINY2}.keras"
    tiny_cnn((48, 48, 1), 3).save(cnn2_path)
    cnn2_path.with_suffix(".json").write_text(json.dumps({"classes": ["angry", "happy", "sad"]}))
    models.register(TINY2, cnn2_path)
    weights = np.random.default_rng(0).normal(0, 0.02, (3, 48, 48, 1)).astype(np.float32)
    dense_path = folder / DENSE_FILE
    linear_pixel_model(weights).save(dense_path)
    yield {"cnn": cnn_path, "dense": dense_path}
    for name in (TINY, TINY2):
        models.zoo._REGISTERED.pop(name, None)


@pytest.fixture(scope="session")
def dashboard_dirs(tmp_path_factory) -> dict[str, Path]:
    """A store cache shared by the session (stores build once) and a data folder without FER."""
    return {
        "cache": tmp_path_factory.mktemp("dashboard_cache"),
        "data": tmp_path_factory.mktemp("no_fer2013"),
    }


@pytest.fixture
def app_env(monkeypatch, dashboard_models, dashboard_dirs) -> dict[str, Path]:
    """The app's environment: synthetic data (no FER2013), a private cache, no --model/--store."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EMOLENS_DASHBOARD_CACHE", str(dashboard_dirs["cache"]))
    monkeypatch.setenv("EMOLENS_DATA", str(dashboard_dirs["data"]))
    return {**dashboard_models, **dashboard_dirs}


def new_app():
    """An AppTest of the dashboard (generous timeout: the first run loads TensorFlow)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=600)


def page(at, path: str):
    """Switch to `path` (relative to app.py) and run it."""
    return at.switch_page(path).run()


def messages(at) -> dict[str, list[str]]:
    """Every error, warning and info text on the page."""
    return {
        "error": [e.value for e in at.error],
        "warning": [e.value for e in at.warning],
        "info": [e.value for e in at.info],
    }


def captions(at) -> list[str]:
    """Captions of every image on the page."""
    return [caption for image in at.image for caption in image.captions]


def plotly_specs(at) -> list[dict]:
    """The JSON spec of every plotly chart on the page."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


@pytest.fixture
def user_model(app_env, monkeypatch):
    """Set --model/--classes for one test; caches start empty (a server has one fixed model)."""
    import streamlit as st

    def use(path: Path, classes: str) -> None:
        monkeypatch.setenv("EMOLENS_DASHBOARD_MODEL", str(path))
        monkeypatch.setenv("EMOLENS_DASHBOARD_CLASSES", classes)
        st.cache_data.clear()
        st.cache_resource.clear()

    yield use
    st.cache_data.clear()
    st.cache_resource.clear()
