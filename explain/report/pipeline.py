"""The batch pipeline: files -> decode -> faces -> predict -> maps; a bad file never stops it."""

from __future__ import annotations

import os
import re
import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from emolens.explain.report.paths import collect_paths
from emolens.explain.report.plan import Plan, make_plan
from emolens.explain.report.progress import progress_bar
from emolens.explain.report.records import BatchResult, FaceResult, FileError
from emolens.explain.report.sources import MAX_BYTES, MAX_PIXELS, crop_faces, read_photo


@dataclass(frozen=True)
class _Options:
    detect: bool
    all_faces: bool
    max_bytes: int
    max_pixels: int


def explain_files(
    model: keras.Model,
    paths: Iterable[str | os.PathLike],
    methods: Sequence[str] = ("grad_cam",),
    *,
    layer: str | None = None,
    target: str | int = "auto",
    classes: Sequence[str] | None = None,
    detect: bool = True,
    all_faces: bool = False,
    batch_size: int = 32,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    progress: bool = False,
    model_name: str | None = None,
) -> BatchResult:
    """Explain every face in the photos named by `paths` with each of `methods`.

    Args:
        model: classifier taking float32 (N, S, S, C) pixels in [0, 1] (`models.load` wraps
            models trained on other ranges); its input size and channels set the crops.
        paths: files, folders (recursive) and glob patterns (see `collect_paths`).
        methods: names in `explain.METHODS`.
        layer: layer for the methods that read one (None: each method's default).
        target: "auto" (each face's predicted class), a class name, or a class index.
        classes: class names in output order. Default: `model.class_names`.
        detect: find faces in photos; False: each file is one pre-cropped face.
        all_faces: every face of a photo; False: the largest.
        batch_size: faces per forward/backward pass (faces are gathered from files into
            groups of about this many, and every method and the prediction run at it).
        max_bytes: larger files are refused (one `FileError` each).
        max_pixels: photos with more pixels are refused before decoding.
        progress: draw a progress bar on stderr.
        model_name: the name the report shows (the bundled name or file). Default: model.name.

    Returns:
        A `BatchResult`: faces in input order, and one `FileError` per file that gave none
        (missing, too large, corrupt, not an image, no face).

    Raises:
        ValueError: unknown method or target, no class names, `batch_size` < 1, or a model
            input that is not a square (S, S, 1 or 3) image. Problems of single files never
            raise.
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}.")
    plan = make_plan(model, methods, layer, target, classes)
    options = _Options(detect, all_faces, max_bytes, max_pixels)
    files, missing = collect_paths(paths)
    result = _empty_result(plan, model_name)
    result.errors.extend(missing)
    pending: list[FaceResult] = []
    waiting = 0  # files whose faces wait in `pending`: done once their batch is explained
    with progress_bar(len(files), enabled=progress) as advance:
        for index, file in enumerate(files):
            faces = _file_faces(plan, file, index, options, result)
            pending.extend(faces)
            waiting += 1
            if len(pending) >= batch_size or index == len(files) - 1:
                if pending:
                    _explain_batch(plan, pending, result, int(batch_size))
                advance(waiting, len(pending))
                pending, waiting = [], 0
    return result


def explain_photo(
    model: keras.Model,
    photo: np.ndarray | bytes,
    methods: Sequence[str] = ("grad_cam",),
    *,
    name: str = "photo",
    layer: str | None = None,
    target: str | int = "auto",
    classes: Sequence[str] | None = None,
    detect: bool = True,
    all_faces: bool = False,
    model_name: str | None = None,
) -> BatchResult:
    """`explain_files` for one in-memory photo (uint8 (H, W, 3) RGB, or encoded bytes).

    A photo without a face gives a result with one `FileError` (named `name`), not an error.
    """
    plan = make_plan(model, methods, layer, target, classes)
    result = _empty_result(plan, model_name)
    try:
        started = time.perf_counter()
        rgb = _decoded(photo)
        decode_ms = 1e3 * (time.perf_counter() - started)
        faces = _faces(plan, rgb, name, 0, decode_ms, _Options(detect, all_faces, 0, 0))
    except ValueError as error:
        result.errors.append(FileError(name, str(error)))
        return result
    _add_time(result, "decode", decode_ms)
    _add_time(result, "detect", sum(face.timing_ms["detect"] for face in faces[:1]))
    _explain_batch(plan, faces, result)
    return result


def _decoded(photo: np.ndarray | bytes) -> np.ndarray:
    from emolens.explain.faces import decode_image

    if isinstance(photo, bytes | bytearray | memoryview):
        return decode_image(photo)
    photo = np.asarray(photo)
    if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[-1] != 3:
        raise ValueError(
            f"explain_photo expects a uint8 (H, W, 3) RGB photo or encoded bytes; got "
            f"{photo.dtype} {photo.shape}."
        )
    return photo


def _empty_result(plan: Plan, model_name: str | None) -> BatchResult:
    return BatchResult(
        model=model_name or plan.model.name,
        classes=plan.classes,
        methods=plan.methods,
        target=plan.target_label,
        layers=dict(plan.layers),
        timing_ms={"decode": 0.0, "detect": 0.0, "predict": 0.0, "maps": 0.0},
    )


def _add_time(result: BatchResult, stage: str, ms: float) -> None:
    result.timing_ms[stage] = result.timing_ms.get(stage, 0.0) + ms


def _file_faces(
    plan: Plan, file: Path, index: int, options: _Options, result: BatchResult
) -> list[FaceResult]:
    """The faces of one file, or [] with a `FileError` recorded."""
    started = time.perf_counter()
    try:
        rgb = read_photo(file, max_bytes=options.max_bytes, max_pixels=options.max_pixels)
    except (ValueError, OSError) as error:
        result.errors.append(FileError(str(file), _reason(error, file)))
        return []
    decode_ms = 1e3 * (time.perf_counter() - started)
    _add_time(result, "decode", decode_ms)
    try:
        faces = _faces(plan, rgb, str(file), index, decode_ms, options)
    except ValueError as error:
        result.errors.append(FileError(str(file), _reason(error, file)))
        faces = []
    _add_time(result, "detect", 1e3 * (time.perf_counter() - started) - decode_ms)
    return faces


def _reason(error: Exception, file: Path) -> str:
    """The error's message on one line, "the file" standing for the path (the row names it)."""
    return " ".join(str(error).replace(f"image file {str(file)!r}", "the file").split())


def _faces(
    plan: Plan, rgb: np.ndarray, name: str, index: int, decode_ms: float, options: _Options
) -> list[FaceResult]:
    """FaceResults (no probabilities or maps yet) for the faces of one decoded photo."""
    started = time.perf_counter()
    found = crop_faces(
        rgb, plan.size, plan.channels, detect=options.detect, all_faces=options.all_faces
    )
    detect_ms = 1e3 * (time.perf_counter() - started)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name).stem)[:40] or "photo"
    return [
        FaceResult(
            file=name,
            face=k,
            box=box,
            image=image,
            crop=crop,
            timing_ms={"decode": decode_ms, "detect": detect_ms},
            face_id=f"{index + 1:04d}_{stem}_face{k}",
        )
        for k, (image, box, crop) in enumerate(found)
    ]


def _explain_batch(
    plan: Plan, faces: list[FaceResult], result: BatchResult, batch_size: int = 32
) -> None:
    """Predict and run every method on `faces`, `batch_size` at a time; fill them in."""
    from emolens.explain import METHODS

    images = np.stack([face.image for face in faces])  # (N, S, S, C)
    started = time.perf_counter()
    probs = predict_probs(plan.model, images, batch_size)  # (N, classes)
    _share(faces, "predict", 1e3 * (time.perf_counter() - started), result)
    targets = probs.argmax(axis=1) if plan.target is None else np.full(len(faces), plan.target)
    for face, face_probs, face_target in zip(faces, probs, targets, strict=True):
        face.probs, face.target = face_probs, int(face_target)
    for name in plan.methods:
        started = time.perf_counter()
        try:
            maps = METHODS[name](
                plan.model, images, targets.astype(np.int32), plan.layer, batch_size=batch_size
            )
        except Exception as error:  # noqa: BLE001  (a failing method is reported per face)
            for face in faces:
                face.errors[name] = " ".join(f"{type(error).__name__}: {error}".split())
            continue
        _share(faces, name, 1e3 * (time.perf_counter() - started), result, stage="maps")
        for face, face_map in zip(faces, maps, strict=True):
            face.maps[name], face.layers[name] = face_map, plan.layers[name]
    result.faces.extend(faces)


def _share(faces, key: str, ms: float, result: BatchResult, stage: str | None = None) -> None:
    """Give each face its share of a batch's time; add the total to the result's stage."""
    for face in faces:
        face.timing_ms[key] = ms / len(faces)
    _add_time(result, stage or key, ms)


_PREDICT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def predict_probs(model: keras.Model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class probabilities (N, classes) float32: the output of a softmax model, else its softmax.

    A model ending in logits (no final softmax) gets a softmax applied here, so both kinds
    report probabilities. One compiled forward per batch (built once per model).
    """
    if model not in _PREDICT:
        _PREDICT[model] = _compiled_probs(model)
    step = _PREDICT[model]
    return np.concatenate(
        [
            step(tf.constant(images[i : i + batch_size])).numpy()
            for i in range(0, len(images), batch_size)
        ]
    ).astype(np.float32)


def _compiled_probs(model: keras.Model):
    """Concrete fn images (N, H, W, C) -> probabilities, over a twin of `model` (shared layers).

    The twin, not `model`, is closed over, so the weakly keyed cache entry dies with `model`.
    """
    from emolens.explain._layers import _is_softmax, _producer

    # a final softmax, bypassable for gradients or not, means the outputs are probabilities
    # (before: one that could not be bypassed had a second softmax applied here)
    has_softmax = _is_softmax(_producer(model.outputs[0])[0])
    twin = keras.Model(model.inputs[0], model.outputs[0])

    def probs(images):
        outputs = twin(images, training=False)
        return outputs if has_softmax else tf.nn.softmax(outputs, axis=-1)

    spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32)
    return tf.function(probs).get_concrete_function(spec)
