"""Train the two ground-truth models of the explanation benchmark on synthetic faces.

`mouth_emo3`: faces whose mouth alone decides the class (`deciding_faces`), so a faithful map
puts its mass on the mouth. `shortcut_emo3`: the same faces with a corner mark that encodes the
label in the training data only (the "Clever Hans" model); on clean faces it loses accuracy.

    python -m emolens.models.train_groundtruth [--out models] [--epochs 12]

writes `<out>/weights/<name>.keras` and the cards `<out>/cards/<name>.json/.md` (tens of KB
each, about a minute on a CPU).
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import keras
from keras import layers

from emolens.explain.metrics.groundtruth import add_mark, deciding_faces
from emolens.models.architectures._common import classifier_head, conv_bn_relu, model_input
from emolens.models.cards import write_card
from emolens.models.evaluate import evaluate
from emolens.models.train import _atomic_save, _device

WIDTHS = (16, 32, 64)
SEEDS = {"train": 10, "val": 11, "test": 12}
COUNTS = {"train": 1500, "val": 300, "test": 300}
COMMAND = "python -m emolens.models.train_groundtruth"


def ground_truth_split(split: str, marked: bool = False, n: int | None = None):
    """Faces of one split (`SEEDS`), marked or not: (images, labels, classes, masks)."""
    faces = deciding_faces(n or COUNTS[split], seed=SEEDS[split])
    images, masks = faces.images, dict(faces.masks)
    if marked:
        images, masks["mark"] = add_mark(images, faces.labels)
    return images, faces.labels, faces.classes, masks


def build_probe(input_shape=(48, 48, 1), num_classes: int = 3) -> keras.Model:
    """VGG-style blocks of one conv (`WIDTHS`), max pools, global max pool, no dropout; ~24k params.

    The global max pool detects a small local part (the mouth, a corner mark) in a few epochs,
    where a global average pool needs many more on these faces. Layer names as `build_vgg`.
    """
    images = model_input(input_shape)
    x = images
    for b, width in enumerate(WIDTHS, start=1):
        x = conv_bn_relu(x, width, f"block{b}_conv1")
        if b < len(WIDTHS):
            x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    x = layers.GlobalMaxPooling2D(name="gmp")(x)
    return keras.Model(images, classifier_head(x, num_classes, 0.0), name="probe")


def _train_one(name: str, marked: bool, epochs: int, out: Path, seed: int) -> dict:
    """Fit a small VGG on (marked) mouth-deciding faces; save it and its card."""
    keras.utils.set_random_seed(seed)
    images, labels, classes, _ = ground_truth_split("train", marked)
    val_images, val_labels, _, _ = ground_truth_split("val", marked)
    model = build_probe((48, 48, 1), len(classes))
    model.compile(
        keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    start = time.perf_counter()
    history = model.fit(
        images, labels, batch_size=32, epochs=epochs, verbose=0,
        validation_data=(val_images, val_labels),
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    model.class_names = classes  # set after fit: Keras would track the strings while training
    path = out / "weights" / f"{name}.keras"
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_save(model.save, path)
    test_images, test_labels, _, _ = ground_truth_split("test", marked=False)
    marked_images, _, _, _ = ground_truth_split("test", marked=True)
    clean = evaluate(model, test_images, test_labels, classes)
    with_mark = evaluate(model, marked_images, test_labels, classes)
    card = {
        "name": name,
        "arch": "probe (vgg-style, global max pool)",
        "class_set": "emo3",
        "classes": list(classes),
        "input_shape": [48, 48, 1],
        "data": "synthetic faces whose mouth alone decides the class "
        "(emolens.explain.metrics.groundtruth.deciding_faces)"
        + (", with a corner mark encoding the label (add_mark)" if marked else ""),
        "split": f"{COUNTS['train']} train (seed {SEEDS['train']}) / {COUNTS['val']} val "
        f"(seed {SEEDS['val']})" + (", both marked" if marked else ""),
        "test_split": f"clean synthetic, seed {SEEDS['test']}",
        "training": f"{epochs} epochs, batch 32, Adam lr 0.003, no augmentation; "
        f"one 3x3 conv per block, widths {list(WIDTHS)}, global max pool",
        "validation": evaluate(model, val_images, val_labels, classes),
        "test": clean,
        "params": int(model.count_params()),
        "size_bytes": path.stat().st_size,
        "training_time_s": float(elapsed),
        "device": _device(),
        "backend": keras.backend.backend(),
        "command": COMMAND,
        "date": date.today().isoformat(),
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "notes": f"Ground-truth model of `emolens benchmark-explanations`. Test accuracy on "
        f"clean faces {clean['accuracy']:.3f}, on the same faces with the corner mark "
        f"{with_mark['accuracy']:.3f}."
        + (" The mark is in its training data only: a shortcut model." if marked else ""),
    }
    write_card(out / "cards" / name, card)
    return card


def main(argv: list[str] | None = None) -> None:
    """Train `mouth_emo3` and `shortcut_emo3`; print their clean and marked accuracies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent), help="models folder")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name, marked in (("mouth_emo3", False), ("shortcut_emo3", True)):
        card = _train_one(name, marked, args.epochs, Path(args.out), args.seed)
        print(f"{name}: {card['size_bytes'] / 1e3:.0f} KB, {card['training_time_s']:.0f} s; "
              f"{card['notes']}")  # fmt: skip


if __name__ == "__main__":
    main()
