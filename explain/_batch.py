"""Input checks at the public boundary: images and targets."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from emolens.explain.data.labels import class_index
from emolens.explain.types import Images, Targets


def as_images(
    images: object,
    caller: str = "explain",
    model: keras.Model | None = None,
    *,
    single_output: bool = True,
) -> Images:
    """Return `images` as float32 (N, H, W, C), checking rank, range and finiteness.

    With `model`, the images must also fit its input (H, W, C) and, if `single_output`, its
    output must be (N, num_classes) class scores (attention methods read a model's
    attention layers themselves and check what the logits depend on).

    Raises:
        ValueError: not 4-D, empty, NaN/Inf, values far outside [0, 1], or not what `model`
            takes or gives. TypeError: not numeric.
    """
    array = np.asarray(images)
    if array.ndim == 3 and array.shape[-1] not in (1, 3):
        hint = " For grayscale images add a channel axis: images[..., None]."
    elif array.ndim == 3:
        hint = " For a single image pass images[None]."
    else:
        hint = ""
    if array.ndim != 4:
        raise ValueError(f"{caller} expects images shaped (N, H, W, C); got {array.shape}.{hint}")
    if array.shape[0] == 0:
        raise ValueError(f"{caller} got an empty batch of images (shape {array.shape}).")
    if min(array.shape[1:]) == 0:
        raise ValueError(f"{caller} got images with no pixels or no channels: {array.shape}.")
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{caller} expects numeric images; got dtype {array.dtype}.")
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(
            f"{caller} got images with NaN or Inf values ({int((~np.isfinite(array)).sum())} "
            "of them). Replace them (np.nan_to_num) or drop those images."
        )
    if model is not None:
        _check_model_fit(model, array.shape, caller, single_output)
    low, high = float(array.min()), float(array.max())
    if low < -1e-3 or high > 1.0 + 1e-3:
        raise ValueError(
            f"{caller} expects images with values in [0, 1]; got [{low:.3g}, {high:.3g}]. "
            "Divide uint8 images by 255; put any normalisation inside the model."
        )
    return array


def _check_model_fit(
    model: keras.Model, shape: tuple[int, ...], caller: str, single_output: bool
) -> None:
    """Images (N, H, W, C) must match the model's input; its output must be (N, classes)."""
    inputs, outputs = getattr(model, "inputs", None), getattr(model, "outputs", None)
    if not inputs or not outputs:
        return  # an unbuilt subclassed model: nothing to check against
    expected = tuple(inputs[0].shape[1:])
    fits = all(e in (None, got) for e, got in zip(expected, shape[1:], strict=False))
    if len(expected) == 3 and not fits:
        wanted = ", ".join(map(str, expected))
        raise ValueError(
            f"{caller}: model {model.name!r} takes images shaped (N, {wanted}); got {shape}. "
            f"Resize the images, or convert gray/RGB to {expected[-1]} channel(s)."
        )
    if single_output and (len(outputs) != 1 or len(outputs[0].shape) != 2):
        raise ValueError(
            f"{caller} explains classifiers with one (N, num_classes) output; model "
            f"{model.name!r} outputs {[tuple(o.shape) for o in outputs]}. Pass a classifier, "
            "or a sub-model ending in its class scores."
        )


def model_classes(model: keras.Model) -> tuple[str, ...] | None:
    """Class names attached to `model` by `models.load` (or the user), else None."""
    names = getattr(model, "class_names", None)
    return tuple(names) if names is not None else None


def as_targets(
    targets: Targets,
    num_images: int,
    num_classes: int,
    classes: Sequence[str] | None = None,
) -> np.ndarray | None:
    """Return targets as (N,) int32 class indices, or None meaning "top class".

    Raises:
        ValueError: wrong length, out-of-range index, or unknown class name.
    """
    if targets is None:
        return None
    if isinstance(targets, str):
        if classes is None:
            raise ValueError(
                f"Target {targets!r} is a class name but the model has no class names. "
                "Pass an int index, or set model.class_names = [...] (models.load does)."
            )
        targets = class_index(targets, tuple(classes))
    if isinstance(targets, (int, np.integer)):
        indices = np.full((num_images,), int(targets), dtype=np.int32)
    else:
        # item by item: np.asarray([0, "happy"]) would turn the 0 into the string "0"
        items = list(targets) if isinstance(targets, (list, tuple)) else list(np.ravel(targets))
        named = [t for t in items if isinstance(t, str)]
        if named and classes is None:
            raise ValueError(
                f"Targets {named[:3]!r} are class names but the model has no class names. "
                "Pass int indices, or set model.class_names = [...] (models.load does)."
            )
        items = [class_index(t, tuple(classes)) if isinstance(t, str) else t for t in items]
        indices = np.asarray(items)
        if not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(
                f"Targets must be ints or class names; got {targets!r} (dtype {indices.dtype})."
            )
        indices = indices.astype(np.int32)
        if indices.shape != (num_images,):
            raise ValueError(
                f"Got {indices.shape[0]} targets for {num_images} images. "
                "Pass one int for all images or one per image."
            )
    bad = indices[(indices < 0) | (indices >= num_classes)]
    if bad.size:
        raise ValueError(
            f"Target class {int(bad[0])} is out of range for a model with {num_classes} classes."
        )
    return indices


def batches(num_items: int, batch_size: int) -> list[slice]:
    """Slices covering range(num_items) in chunks of `batch_size`.

    Raises:
        ValueError: `batch_size` < 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}.")
    return [slice(i, min(i + batch_size, num_items)) for i in range(0, num_items, batch_size)]
