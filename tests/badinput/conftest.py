"""The corpus is generated once per session; the tally of outcomes is printed at the end."""

from __future__ import annotations

import collections
import json

import keras
import pytest

from tests.badinput.corpus import write_photos
from tests.dashboard.conftest import app_env, dashboard_dirs, dashboard_models  # noqa: F401
from tests.toy_models import tiny_cnn

TALLY: collections.Counter = collections.Counter()
"""Outcome counts of every case run: 'clear error', 'graceful', 'crash'."""


def record(outcome: str) -> None:
    TALLY["tried"] += 1
    TALLY[outcome] += 1


def pytest_terminal_summary(terminalreporter):
    if TALLY["tried"]:
        terminalreporter.write_line(
            f"bad-input corpus: {TALLY['tried']} cases tried, {TALLY['clear error']} clear "
            f"errors, {TALLY['graceful']} graceful results, {TALLY['crash']} crashes"
        )


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    """name -> path of every photo case, written once."""
    return write_photos(tmp_path_factory.mktemp("badinput") / "photos")


@pytest.fixture(scope="session")
def model_file(tmp_path_factory):
    """A random tiny emo3 CNN (48x48 gray) saved as .keras with its card."""
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("badinput_model") / "tiny.keras"
    tiny_cnn((48, 48, 1), 3).save(path)
    path.with_suffix(".json").write_text(json.dumps({"classes": ["angry", "happy", "sad"]}))
    return path
