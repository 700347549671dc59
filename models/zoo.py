"""The model registry: architecture names -> builders, bundled names -> weights + cards."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import keras

from emolens.explain.data.labels import CLASS_SETS, class_names
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
DEFAULT_MODEL = "vgg_emo3_soup"
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")

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


def model_path(name_or_path: str | os.PathLike) -> Path:
    """The file a bundled or registered name, or a path, refers to.

    Raises:
        ValueError: an unknown name (the message lists the bundled ones).
        FileNotFoundError: a path that does not exist.
    """
    return _resolve(name_or_path)


def _resolve(name_or_path: str | os.PathLike) -> Path:
    key = str(name_or_path)
    if key in _REGISTERED:
        return _REGISTERED[key]
    if (WEIGHTS_DIR / f"{key}.keras").is_file():
        return WEIGHTS_DIR / f"{key}.keras"
    path = Path(key).expanduser()
    if path.is_file():
        return path
    if path.suffix in MODEL_SUFFIXES or os.sep in key:
        raise FileNotFoundError(f"Model file {key!r} not found.")
    raise ValueError(
        f"Unknown model {key!r}. Bundled models: {', '.join(bundled()) or 'none'}; "
        "or pass a path to a .keras file (or a legacy .h5 file)."
    )


def load(
    name_or_path: str | os.PathLike | None = None,
    classes: str | Sequence[str] | None = None,
    input_range: str = "0,1",
    *,
    safe_mode: bool = True,
) -> keras.Model:
    """Load a bundled model by name (default: `default_model()`), a `.keras` or a legacy `.h5` file.

    Files load with `safe_mode=True` (no Lambda layers). Class names are attached as
    `model.class_names` (so `explain` accepts class names as targets): from `classes`, else
    from the card; a file with neither loads without them. The input size and channels are
    the model's own (`model.inputs[0].shape`).

    Args:
        name_or_path: bundled or registered name, or a model file path.
        classes: "fer7", "emo3", names separated by commas ("neg,pos"), or a sequence of
            names, in the model's output order.
        input_range: the pixel range the model was trained on, "0,1" (default), "-1,1" or
            "0,255". Other ranges get a `Rescaling` layer prepended (see `with_input_range`),
            so the returned model always takes float32 pixels in [0, 1].
        safe_mode: refuse files that run Python code when loaded (Lambda layers). Pass
            False only for a file you trust.

    Raises:
        ValueError: unknown name, bad `classes` or `input_range`, a class count that is
            not the model's output size, a file that is truncated or not a Keras model, or
            a Lambda layer under safe mode. FileNotFoundError: missing file.
    """
    path = _resolve(name_or_path if name_or_path is not None else DEFAULT_MODEL)
    model = with_input_range(_load_file(path, safe_mode), input_range)
    card = load_card(path)
    if classes is not None:
        model.class_names = _checked_classes(model, parse_classes(classes), str(path))
    elif card and "classes" in card:
        model.class_names = tuple(card["classes"])
    return model


def _load_file(path: Path, safe_mode: bool) -> keras.Model:
    """keras.saving.load_model with errors that name the file, the problem and the fix."""
    try:
        return keras.saving.load_model(path, safe_mode=safe_mode)
    except Exception as error:  # noqa: BLE001  (Keras, h5py and zipfile raise many types)
        text = str(error)
        if "safe_mode" in text or "arbitrary code" in text:
            raise ValueError(
                f"Model file {str(path)!r} holds Python code (a Lambda layer), which safe mode "
                "refuses: loading it would run that code. If you trust the file, load it with "
                "models.load(path, safe_mode=False), or on the command line pass --unsafe-load; "
                "better, replace the Lambda by a registered layer."
            ) from error
        if isinstance(error, FileNotFoundError) and not path.is_file():
            raise
        kind = "a .keras zip archive" if path.suffix == ".keras" else "an HDF5 (.h5) model"
        raise ValueError(
            f"Cannot load model file {str(path)!r} ({path.stat().st_size} bytes): it is not "
            f"{kind} that Keras can read (truncated, corrupt or another format: "
            f"{type(error).__name__}: {text.splitlines()[0] if text else ''}). Save the model "
            "again with model.save('name.keras')."
        ) from error


def parse_classes(classes: str | Sequence[str]) -> tuple[str, ...]:
    """Class names from "fer7", "emo3", "a,b,c" or a sequence of names.

    Raises:
        ValueError: fewer than two names, an empty name, or a repeated name.
    """
    if isinstance(classes, str) and classes.lower() in CLASS_SETS:
        return class_names(classes)
    names = classes.split(",") if isinstance(classes, str) else list(classes)
    names = tuple(str(name).strip() for name in names)
    if len(names) < 2 or not all(names) or len({n.lower() for n in names}) != len(names):
        raise ValueError(
            f"classes must be {' or '.join(CLASS_SETS)}, or two or more distinct names "
            f"separated by commas in the model's output order (e.g. 'neg,pos'); got {classes!r}."
        )
    return names


def _checked_classes(model: keras.Model, names: tuple[str, ...], source: str) -> tuple:
    """`names`, after checking that there is one per model output."""
    num_outputs = model.outputs[0].shape[-1]
    if num_outputs != len(names):
        raise ValueError(
            f"Model {source!r} has {num_outputs} outputs but {len(names)} class names were "
            f"given ({', '.join(names)}). Pass one name per output, in output order."
        )
    return names


def parse_input_range(input_range: str | Sequence[float]) -> tuple[float, float]:
    """(low, high) pixel range from "0,1", "-1,1", "0,255" (or any "low,high" pair).

    Raises:
        ValueError: not two numbers, or low >= high.
    """
    parts = input_range.split(",") if isinstance(input_range, str) else list(input_range)
    try:
        low, high = (float(part) for part in parts)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not low < high:
        raise ValueError(
            f"input_range must be two increasing numbers 'low,high' such as '0,1', '-1,1' or "
            f"'0,255' (the pixel range the model was trained on); got {input_range!r}."
        )
    return low, high


def with_input_range(model: keras.Model, input_range: str | Sequence[float]) -> keras.Model:
    """`model` taking [0, 1] pixels: a `Rescaling` to its own pixel range is prepended.

    For "0,1" the model comes back unchanged. Otherwise the graph is rebuilt on a new input,
    `Rescaling(high - low, offset=low, name="input_range")`, then copies of the model's own
    layers (same names, same weights), so every layer stays reachable by its plain name for
    the CAM methods and the logits before a final softmax stay reachable too.

    Raises:
        ValueError: bad `input_range`, several inputs or outputs, or a subclassed model (no
            graph to rebuild).
    """
    low, high = parse_input_range(input_range)
    if (low, high) == (0.0, 1.0):
        return model
    graph = getattr(model, "_functional", model)  # a built Sequential keeps its graph there
    if not isinstance(graph, keras.Model) or not hasattr(graph, "_run_through_graph"):
        raise ValueError(
            f"input_range={input_range!r} needs a Functional or Sequential model; "
            f"{model.name!r} is a subclassed {type(model).__name__}. Put the scaling inside "
            "the model, or save it as a Functional model."
        )
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"input_range={input_range!r} needs a model with one image input and one output; "
            f"{model.name!r} has {len(model.inputs)} inputs and {len(model.outputs)} outputs."
        )
    images = keras.Input(shape=model.inputs[0].shape[1:], name="image")
    pixels = keras.layers.Rescaling(high - low, offset=low, name="input_range")(images)
    copies: dict[int, tuple[keras.layers.Layer, keras.layers.Layer]] = {}

    def copy_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        if id(layer) not in copies:  # a shared layer stays shared
            copies[id(layer)] = (layer, layer.__class__.from_config(layer.get_config()))
        return copies[id(layer)][1]

    outputs = graph._run_through_graph(pixels, operation_fn=copy_layer)
    wrapped = keras.Model(images, outputs, name=model.name)
    for original, copy in copies.values():
        copy.set_weights(original.get_weights())
    return wrapped
