"""The default model is one name, `zoo.default_model()`, read by `models.load()`, by
`emolens models` (which marks its row) and by the README, which states it and marks its row of
the generated bundled-model table."""

import re
from pathlib import Path

import numpy as np

from emolens import models
from emolens.cli import main
from emolens.models import zoo

README = Path(__file__).resolve().parents[2] / "README.md"
MARKED_ROW = re.compile(r"^\| (\S+) \(default\) \|", flags=re.MULTILINE)


def readme_default() -> str:
    """The default the README states in prose, in the quick start and in the table."""
    text = README.read_text()
    named = {
        *re.findall(r"The default model is `(\w+)`", text),
        *re.findall(r"bundled default \((\w+)\)", text),
        *MARKED_ROW.findall(text),
    }
    assert len(named) == 1, f"README names {sorted(named) or 'no'} default model(s); want one"
    return named.pop()


def test_the_default_is_the_model_the_readme_names():
    assert zoo.default_model() == readme_default() == zoo.DEFAULT_MODEL


def test_load_without_a_name_loads_the_default_model():
    default, named = models.load(), models.load(readme_default())
    assert default.class_names == named.class_names
    weights = zip(default.get_weights(), named.get_weights(), strict=True)
    assert all(np.array_equal(a, b) for a, b in weights), "models.load() loads another model"


def test_emolens_models_marks_the_default_row(capsys):
    assert main(["models"]) == 0
    assert MARKED_ROW.findall(capsys.readouterr().out) == [zoo.default_model()]
