"""Checked once before a batch starts: model input, class names, methods, target, layers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras

from emolens.explain.data.labels import class_index


@dataclass(frozen=True)
class Plan:
    """A checked request: the model, its input, class names and what to explain."""

    model: keras.Model
    size: int  # the model's input side S
    channels: int  # 1 or 3
    classes: tuple[str, ...]
    methods: tuple[str, ...]
    layer: str | None
    target: int | None  # None: each face's predicted class
    target_label: str  # "auto" or the class name
    layers: dict[str, str]  # method -> layer it reads ("" for none)


def make_plan(
    model: keras.Model,
    methods: Sequence[str],
    layer: str | None,
    target: str | int,
    classes: Sequence[str] | None,
) -> Plan:
    """Check the request once, before any file is read.

    Raises:
        ValueError: a model input that is not a square (S, S, 1|3) image, no class names (or
            not one per output), an unknown method, or an unknown target class.
    """
    size, channels = _input_size(model)
    names = _class_names(model, classes)
    methods = _methods(methods)
    index = _target(target, names)
    layers = {name: _method_layer(model, name, layer) for name in methods}
    label = "auto" if index is None else names[index]
    return Plan(model, size, channels, names, methods, layer, index, label, layers)


def _input_size(model: keras.Model) -> tuple[int, int]:
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or shape[0] != shape[1] or shape[0] is None or shape[2] not in (1, 3):
        raise ValueError(
            f"Model {model.name!r} takes inputs shaped {shape}; explaining photos needs a "
            "square image input (S, S, 1) or (S, S, 3), such as (48, 48, 1) or (224, 224, 3)."
        )
    return int(shape[0]), int(shape[2])


def _class_names(model: keras.Model, classes: Sequence[str] | None) -> tuple[str, ...]:
    names = classes if classes is not None else getattr(model, "class_names", None)
    if names is None:
        raise ValueError(
            f"Model {model.name!r} has no class names, and the report names each class. "
            "Pass classes (on the command line --classes fer7, emo3 or names such as "
            "'neg,pos', in output order), or put a card with 'classes' beside the model file."
        )
    names = tuple(names)
    outputs = model.outputs[0].shape[-1]
    if len(names) != outputs:
        raise ValueError(
            f"Model {model.name!r} has {outputs} outputs but {len(names)} class names "
            f"({', '.join(names)}). Pass one name per output, in output order."
        )
    return names


def _methods(methods: Sequence[str]) -> tuple[str, ...]:
    from emolens.explain import METHODS

    methods = tuple(dict.fromkeys(m.strip() for m in methods if m.strip()))
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(
            f"Unknown method(s) {', '.join(unknown) or '(none given)'}. "
            f"Choose from: {', '.join(METHODS)}."
        )
    return methods


def _target(target: str | int, names: tuple[str, ...]) -> int | None:
    """None for "auto", else the class index of a name or of an index in range."""
    text = str(target).strip()
    if text.lower() == "auto":
        return None
    if text.lstrip("-").isdigit():
        index = int(text)
        if not 0 <= index < len(names):
            raise ValueError(
                f"Target class index {index} is out of range for {len(names)} classes "
                f"({', '.join(names)}). Use 'auto', a class name or 0..{len(names) - 1}."
            )
        return index
    return class_index(text, names)


def _method_layer(model: keras.Model, method: str, layer: str | None) -> str:
    """The layer `method` reads on `model`, its default resolved; "" for pixel-space methods."""
    from emolens.explain import METHODS
    from emolens.explain._layers import resolve_layer
    from emolens.explain.cam.multi_layer_cam import default_layers

    module = METHODS[method].__module__
    if ".gradients." in module and method != "guided_grad_cam" or ".perturbation." in module:
        return ""  # saliency, SmoothGrad, Integrated Gradients, occlusion, RISE: pixel space
    try:
        if method == "multi_layer_cam":
            return layer or "+".join(default_layers(model))
        if ".cam." in module or method == "guided_grad_cam":
            return resolve_layer(model, layer, tokens=True)
    except ValueError:
        return layer or ""  # the method itself will say what is wrong, face by face
    return layer or ""  # ViT attention methods: their own default when None
