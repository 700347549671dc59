"""emolens model zoo: architectures, the registry, training and bundled weights with cards.

The zoo (and with it Keras and TensorFlow) is imported on first use of one of the names below,
so light modules such as `emolens.models.train_config` load without TensorFlow (the CLI parses
its flags from them). `from emolens import models; models.load(...)` works as before.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emolens.models.zoo import (
        ARCHITECTURES,
        architectures,
        available,
        build,
        bundled,
        default_model,
        load,
        load_card,
        model_path,
        register,
    )

__all__ = [
    "ARCHITECTURES",
    "architectures",
    "available",
    "build",
    "bundled",
    "default_model",
    "load",
    "load_card",
    "model_path",
    "register",
]


def __getattr__(name: str):
    """A zoo name (imports the zoo on first use) or a submodule (`models.zoo`, `models.cards`)."""
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in __all__:
        return getattr(import_module(f"{__name__}.zoo"), name)
    if find_spec(f"{__name__}.{name}") is not None:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
