"""Class sets: the only place where class order is written down."""

from __future__ import annotations

FER7: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
EMO3: tuple[str, ...] = ("angry", "happy", "sad")

CLASS_SETS: dict[str, tuple[str, ...]] = {"fer7": FER7, "emo3": EMO3}


def class_names(class_set: str) -> tuple[str, ...]:
    """Class names of a class set (`"fer7"` or `"emo3"`), in model output order.

    Raises:
        ValueError: `class_set` is not a known class set.
    """
    key = class_set.lower()
    if key not in CLASS_SETS:
        raise ValueError(
            f"Unknown class set {class_set!r}. Choose one of: {', '.join(CLASS_SETS)}."
        )
    return CLASS_SETS[key]


def class_index(name: str, classes: tuple[str, ...] | list[str]) -> int:
    """Index of class `name` (any case) in `classes`.

    Raises:
        ValueError: `name` is not one of `classes`.
    """
    lowered = [c.lower() for c in classes]
    if name.lower() not in lowered:
        raise ValueError(
            f"Unknown class name {name!r}. Known classes, in order: {', '.join(classes)}."
        )
    return lowered.index(name.lower())


def fer7_to(class_set: str) -> dict[int, int]:
    """Map FER2013 label indices to indices of `class_set`; labels outside it are absent."""
    names = class_names(class_set)
    return {i: names.index(n) for i, n in enumerate(FER7) if n in names}
