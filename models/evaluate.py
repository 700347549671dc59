"""Prediction and classification metrics (scikit-learn) for a model on a labelled split."""

from __future__ import annotations

import json
import time

import keras
import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score


def predict_probs(
    model: keras.Model, images: np.ndarray, batch_size: int = 256, tta_flip: bool = False
) -> np.ndarray:
    """Class probabilities (N, num_classes); `tta_flip` averages with the mirrored faces."""
    probs = np.asarray(model.predict(images, batch_size=batch_size, verbose=0))
    if tta_flip:
        mirrored = np.asarray(model.predict(images[:, :, ::-1], batch_size=batch_size, verbose=0))
        probs = (probs + mirrored) / 2.0
    return probs.astype(np.float32)


def classification_metrics(
    labels: np.ndarray, predictions: np.ndarray, classes: tuple[str, ...] | list[str]
) -> dict:
    """Accuracy, macro-F1, per-class recall and the confusion matrix (rows: true class)."""
    indices = list(range(len(classes)))
    recall = recall_score(labels, predictions, labels=indices, average=None, zero_division=0)
    return {
        "n": int(len(labels)),
        "accuracy": float(accuracy_score(labels, predictions)),
        "macro_f1": float(
            f1_score(labels, predictions, labels=indices, average="macro", zero_division=0)
        ),
        "per_class_recall": {c: float(r) for c, r in zip(classes, recall, strict=True)},
        "confusion_matrix": confusion_matrix(labels, predictions, labels=indices).tolist(),
    }


def evaluate(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    classes: tuple[str, ...] | list[str],
    tta_flip: bool = False,
    batch_size: int = 256,
) -> dict:
    """Metrics of `model` on (images, labels); see `classification_metrics`.

    Raises:
        ValueError: the model's output size differs from the number of classes.
    """
    num_outputs = model.outputs[0].shape[-1]
    if num_outputs != len(classes):
        raise ValueError(
            f"Model {model.name!r} outputs {num_outputs} classes but the data has "
            f"{len(classes)} ({', '.join(classes)}). Pick the matching --classes."
        )
    probs = predict_probs(model, images, batch_size, tta_flip)
    result = classification_metrics(labels, probs.argmax(axis=1), classes)
    result["tta_flip"] = bool(tta_flip)
    return result


def latency_ms(model: keras.Model, input_shape: tuple[int, ...], repeats: int = 20) -> float:
    """Median milliseconds per single image (batch 1, compiled call, after warm-up) here.

    Under TensorFlow the call runs as a `tf.function` (as `explain` and `predict` do), so the
    number is the model's cost, not Python's per-layer eager overhead.
    """
    image = np.zeros((1, *input_shape), dtype=np.float32)
    call = model
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        call = tf.function(model)
    for _ in range(3):
        np.asarray(call(image, training=False))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(call(image, training=False))
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def metrics_table(metrics: dict, classes: tuple[str, ...] | list[str]) -> str:
    """Plain-text report: headline numbers, per-class recall and the confusion matrix."""
    width = max(len(c) for c in classes) + 2
    lines = [
        f"images {metrics['n']}  accuracy {metrics['accuracy']:.4f}  "
        f"macro-F1 {metrics['macro_f1']:.4f}" + ("  (flip TTA)" if metrics.get("tta_flip") else ""),
        "",
        "class".ljust(width) + "recall  " + "".join(c[:7].rjust(8) for c in classes),
    ]
    for c, row in zip(classes, metrics["confusion_matrix"], strict=True):
        recall = metrics["per_class_recall"][c]
        lines.append(c.ljust(width) + f"{recall:6.3f}  " + "".join(f"{v:8d}" for v in row))
    return "\n".join(lines)


def evaluate_model(
    model: str | None,
    data: str | None,
    split: str = "publictest",
    class_set: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    tta_flip: bool = True,
    out: str | None = None,
    update_card: bool = False,
    safe_mode: bool = True,
    input_range: str = "0,1",
) -> dict:
    """Load a zoo name or .keras file, evaluate it on `split` of `data`, optionally save JSON.

    `safe_mode=False` loads a file holding a Lambda layer (it runs the file's code);
    `input_range` is the pixel range the model was trained on (see `zoo.with_input_range`).

    Returns:
        {"metrics": dict, "table": str, "model": "<name or path> (<architecture>)"}.

    Raises:
        ValueError: no class set given and the model has no card.
    """
    from emolens.explain.data import load_dataset
    from emolens.models import zoo
    from emolens.models.cards import atomic_write_text, write_card

    name = model or zoo.default_model()
    loaded = zoo.load(name, input_range=input_range, safe_mode=safe_mode)
    card = zoo.load_card(name)
    if update_card and card is None:
        raise ValueError(
            f"--update-card needs a model card, and {name!r} has none (a .json beside the "
            "file, as `emolens train` writes). Drop --update-card, or pass --out FILE."
        )
    if class_set is None:
        if not card:
            raise ValueError(
                f"Model {model!r} has no card, so its class set is unknown. Pass --classes."
            )
        class_set = card["class_set"]
    dataset = load_dataset(data, split, class_set, limit=limit, seed=seed)
    metrics = evaluate(loaded, dataset.images, dataset.labels, dataset.classes, tta_flip)
    metrics["data"], metrics["split"] = str(data), split
    if out:
        atomic_write_text(out, json.dumps(metrics, indent=2) + "\n")
    if update_card and card is not None:
        card["test"], card["test_split"] = metrics, split
        card["latency_ms_cpu"] = latency_ms(loaded, tuple(dataset.images.shape[1:]))
        write_card(zoo.card_path(zoo._resolve(name)).with_suffix(""), card)
    return {
        "metrics": metrics,
        "table": metrics_table(metrics, dataset.classes),
        "model": f"{name} ({loaded.name})",  # what was asked for, and its architecture
    }
