"""The model registry: architecture names -> builders, bundled names -> weights + cards."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import keras

from emolens.explain.data.labels import class_names
from emolens.models import layers as _custom_layers  # noqa: F401  (registers the zoo's custom layers)
from emolens.models.architectures.alexnet import build_alexnet
from emolens.models.architectures.applications import build_efficientnetb0, build_mobilenetv2
from emolens.models.architectures.lenet import build_lenet
from emolens.models.architectures.mini_xception import build_mini_xception
from emolens.models.architectures.resnet import build_resnet18, build_resnet34
from emolens.models.architectures.vgg import build_vgg
from emolens.models.architectures.vit import build_vit

ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "lenet": build_lenet,
    "alexnet": build_alexnet,
    "vgg": build_vgg,
    "resnet18": build_resnet18,
    "resnet34": build_resnet34,
    "mobilenetv2": build_mobilenetv2,
    "efficientnetb0": build_efficientnetb0,
    "mini_xception": build_mini_xception,
    "vit": build_vit,
}

PACKAGE_DIR = Path(__file__).resolve().parent
WEIGHTS_DIR = PACKAGE_DIR / "weights"
CARDS_DIR = PACKAGE_DIR / "cards"
DEFAULT_MODEL = "vgg_emo3_lowmix"

_REGISTERED: dict[str, Path] = {}


def architectures() -> list[str]:
    """Names `build` accepts."""
    return sorted(ARCHITECTURES)


def bundled() -> list[str]:
    """Names of models whose weights ship with emolens (or were registered), loadable by name."""
    names = {p.stem for p in WEIGHTS_DIR.glob("*.keras")} | set(_REGISTERED)
    return sorted(names)


def available() -> dict[str, list[str]]:
    """Everything the zoo offers: {"architectures": build names, "bundled": load names}."""
    return {"architectures": architectures(), "bundled": bundled()}


def default_model() -> str:
    """Name of the model used wherever a command's --model is omitted."""
    return DEFAULT_MODEL


def register(name: str, path: str | os.PathLike) -> None:
    """Make a `.keras` file loadable by `name` (tests and the dashboard use this for own models).

    Raises:
        FileNotFoundError: `path` does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Cannot register {name!r}: model file {str(path)!r} not found.")
    _REGISTERED[name] = path


def build(name: str, classes: str | int = "emo3", input_shape=(48, 48, 1), **kwargs) -> keras.Model:
    """Build architecture `name` untrained, for class set `classes` (or a class count).

    Raises:
        ValueError: unknown architecture or class set.
    """
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {name!r}. Available: {', '.join(architectures())}.")
    names = class_names(classes) if isinstance(classes, str) else None
    num_classes = len(names) if names is not None else int(classes)
    model = ARCHITECTURES[name](input_shape=tuple(input_shape), num_classes=num_classes, **kwargs)
    if names is not None:
        model.class_names = names
    return model


def card_path(model_path: str | os.PathLike) -> Path:
    """Where the JSON card of a model file lives: bundled cards/, else beside the file."""
    model_path = Path(model_path)
    bundled_card = CARDS_DIR / (model_path.stem + ".json")
    if model_path.parent == WEIGHTS_DIR and bundled_card.is_file():
        return bundled_card
    return model_path.with_suffix(".json")


def load_card(name_or_path: str | os.PathLike) -> dict | None:
    """The card (dict) of a bundled name or a model file, or None if it has none."""
    path = card_path(_resolve(name_or_path))
    return json.loads(path.read_text()) if path.is_file() else None


def _resolve(name_or_path: str | os.PathLike) -> Path:
    key = str(name_or_path)
    if key in _REGISTERED:
        return _REGISTERED[key]
    if (WEIGHTS_DIR / f"{key}.keras").is_file():
        return WEIGHTS_DIR / f"{key}.keras"
    path = Path(key).expanduser()
    if path.is_file():
        return path
    if path.suffix == ".keras" or os.sep in key:
        raise FileNotFoundError(f"Model file {key!r} not found.")
    raise ValueError(
        f"Unknown model {key!r}. Bundled models: {', '.join(bundled()) or 'none'}; "
        "or pass a path to a .keras file."
    )


def load(name_or_path: str | os.PathLike | None = None) -> keras.Model:
    """Load a bundled model by name (default: `default_model()`) or a `.keras` file.

    Files load with `safe_mode=True` (no Lambda layers). The card's class names are attached
    as `model.class_names`, so `explain` accepts class names as targets.

    Raises:
        ValueError: unknown name. FileNotFoundError: missing file.
    """
    path = _resolve(name_or_path if name_or_path is not None else DEFAULT_MODEL)
    model = keras.saving.load_model(path, safe_mode=True)
    card = load_card(path)
    if card and "classes" in card:
        model.class_names = tuple(card["classes"])
    return model
