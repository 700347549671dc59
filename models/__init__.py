"""emolens model zoo: architectures, the registry, training and bundled weights with cards."""

from emolens.models.zoo import (
    ARCHITECTURES,
    architectures,
    available,
    build,
    bundled,
    default_model,
    load,
    load_card,
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
    "register",
]
