"""Weight averaging ("model soup"): each weight the mean of that weight over several runs.

Model soups (Wortsman et al. 2022) average the weights of runs of one architecture into one
model.

It can pay when the runs share a start (continuations of one `--init` with different
learning rates or augmentation): they stay in one basin, so the average is a working model,
at the cost of one, and sometimes better than each (here: the emo3 VGG, +0.4 validation
points; the fer7 VGG only once its BatchNorm statistics were recomputed, below).
`greedy_average` keeps only the runs that help on validation.
Runs trained from different random starts average into noise; for them average the
probabilities instead (an ensemble, several files).

An average's BatchNorm statistics are averages too, and belong to none of the ingredients:
`soup_files(..., precise_bn=True)` (`emolens soup --precise-bn`) recomputes them on the
training images (`models.precise_bn`); that made the fer7 average worth having.

    >>> from emolens.models import soup, zoo
    >>> a, b = zoo.load("runs/a/a.keras"), zoo.load("runs/b/b.keras")
    >>> model = soup.average_weights([a, b])          # a new model; a and b are untouched
    >>> model, steps = soup.greedy_average([a, b], score=my_validation_accuracy)

`soup_files` does the same from files and writes the model with its card (validation and test
metrics, the ingredients), as `emolens soup` does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import keras
import numpy as np


def _signature(model: keras.Model) -> list[tuple[str, tuple[int, ...], str]]:
    """(variable path, shape, dtype) of every weight, in `get_weights` order."""
    return [
        (v.path, tuple(int(d) for d in v.shape), keras.backend.standardize_dtype(v.dtype))
        for v in model.weights
    ]


def average_weights(models: Sequence[keras.Model]) -> keras.Model:
    """A new model with `models[0]`'s architecture and the mean of every float weight.

    BatchNormalization's moving statistics are floats and are averaged too; integer
    variables (random-seed states) are taken from `models[0]`. Class names carry over.

    Args:
        models: 2 or more Keras models of one architecture (same weights, same shapes).

    Returns:
        A new `keras.Model`; the inputs are not changed.

    Raises:
        ValueError: fewer than 2 models, or two models whose weights differ in count, shape
            or dtype (the message names the first weight that differs).
    """
    models = list(models)
    first = _check_compatible(models)
    weights = [model.get_weights() for model in models]
    averaged = []
    for k, (_, _, dtype) in enumerate(first):
        if "float" in dtype:
            mean = np.mean([np.asarray(w[k], np.float64) for w in weights], axis=0)
            averaged.append(mean.astype(weights[0][k].dtype))
        else:
            averaged.append(weights[0][k])
    return _with_weights(models[0], averaged)


def _with_weights(model: keras.Model, weights: list[np.ndarray]) -> keras.Model:
    """A new model of `model`'s architecture (and class names) holding `weights`."""
    copy = keras.models.clone_model(model)
    copy.set_weights(weights)
    if getattr(model, "class_names", None) is not None:
        copy.class_names = model.class_names
    return copy


def _check_compatible(models: list[keras.Model]) -> list[tuple[str, tuple[int, ...], str]]:
    """The first model's weight signature, once every model is known to share it."""
    if len(models) < 2:
        raise ValueError(
            f"A weight average needs at least 2 models; got {len(models)}. Pass the runs to "
            "average (continuations of one --init work best)."
        )
    first = _signature(models[0])
    for i, model in enumerate(models[1:], start=2):
        other = _signature(model)
        if len(other) != len(first):
            raise ValueError(
                f"Model {i} ({model.name!r}) has {len(other)} weight arrays and model 1 "
                f"({models[0].name!r}) has {len(first)}: they are different architectures. "
                "Average only runs of one architecture and class set."
            )
        for (path_a, *spec_a), (path_b, *spec_b) in zip(first, other, strict=True):
            if spec_a != spec_b:
                raise ValueError(
                    f"Model {i} ({model.name!r}) differs from model 1 ({models[0].name!r}) at "
                    f"weight {path_b!r}: shape and dtype {tuple(spec_b)} against {path_a!r} "
                    f"{tuple(spec_a)}. Average only runs of one architecture and class set."
                )
    return first


def greedy_average(
    models: Sequence[keras.Model],
    score: Callable[[keras.Model], float],
    finish: Callable[[keras.Model], keras.Model] | None = None,
    on_step: Callable[[dict], None] | None = None,
) -> tuple[keras.Model, list[dict]]:
    """Greedy soup: add models to the average best first, each only if `score` does not fall.

    The models are ranked by `score` alone (higher is better; ties keep their order). The
    best starts the soup; each next one is kept when the average with it scores at least
    as well as the soup so far. So the result scores at least as well as the best model
    alone (on the data `score` uses: pass validation accuracy, never test).

    Args:
        models: 2 or more Keras models of one architecture.
        score: model -> float, higher is better (e.g. validation accuracy).
        finish: model -> model, applied to each model and each average before it is scored,
            and to the result (e.g. `precise_bn` on training images); None: nothing.
        on_step: called with each step as it is decided (progress; None: silent).

    Returns:
        (the averaged model, one step per model in the order tried:
        {"index": position in `models`, "alone": its own score, "score": the soup's score
        with it, "kept": bool}).

    Raises:
        ValueError: as `average_weights`.
    """
    models = list(models)
    _check_compatible(models)
    finish = finish or (lambda model: _with_weights(model, model.get_weights()))
    finished = [finish(model) for model in models]
    alone = [float(score(model)) for model in finished]
    order = sorted(range(len(models)), key=lambda i: -alone[i])
    kept, best = [order[0]], alone[order[0]]
    soup = finished[order[0]]
    steps = [{"index": order[0], "alone": best, "score": best, "kept": True}]
    if on_step:
        on_step(steps[0])
    for i in order[1:]:
        candidate = finish(average_weights([models[k] for k in [*kept, i]]))
        value = float(score(candidate))
        steps.append({"index": i, "alone": alone[i], "score": value, "kept": value >= best})
        if on_step:
            on_step(steps[-1])
        if value >= best:
            kept, best, soup = [*kept, i], value, candidate
    return soup, steps


def soup_files(
    paths: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    name: str,
    data: str | None = None,
    test_split: str | None = "publictest",
    val_fraction: float = 0.1,
    seed: int = 0,
    tta: bool = True,
    greedy: bool = False,
    precise_bn: bool = False,
    bn_batch_size: int = 128,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Average the weights of model files (or bundled names); write `out/name.keras` and its card.

    With `data`, the card holds validation metrics on the same held-out part of Training the
    ingredients were validated on, and test metrics on `test_split`. Every file is written
    whole or not at all.

    Args:
        paths: 2 or more bundled names or `.keras` files, each with a card (`emolens train`
            writes one beside its model), of one architecture and class set.
        out: folder for `name.keras`, `name.json` and `name.md`.
        name: the soup's model name.
        data: a folder holding fer2013/ (or 'synthetic'), or None for no metrics.
        test_split: the split for the test metrics, or None.
        val_fraction: the validation fraction; it must match the ingredients' cards.
        seed: the validation split's seed; it must match the ingredients' cards.
        tta: average with horizontally flipped faces when measuring.
        greedy: keep only the models that raise validation accuracy (`greedy_average`);
            needs `data`. The card lists which were kept and the accuracy at each step.
        precise_bn: recompute the BatchNorm statistics on the training rows (the ingredients'
            Training minus validation) after averaging, and before each greedy score
            (`models.precise_bn`); needs `data`. With it, one model is enough: its statistics
            are recomputed.
        bn_batch_size: the batch `precise_bn` averages statistics over (the training batch).
        progress: called with one line per greedy step (e.g. `print`; None: silent).

    Returns:
        The card (dict).

    Raises:
        ValueError: an ingredient without a card, different class sets or architectures, a
            validation split that is not the ingredients', or `greedy` without `data`.
        FileNotFoundError: a model file that does not exist.
    """
    from emolens.explain.data import load_dataset
    from emolens.models import zoo
    from emolens.models.cards import write_card
    from emolens.models.evaluate import evaluate, latency_ms
    from emolens.models.train import _atomic_save, _device, _split, data_text, split_text
    from emolens.models.train_config import TrainConfig

    if not name or Path(name).name != name or name.startswith("."):
        raise ValueError(
            f"--name must be a plain file name such as 'vgg_emo3_soup'; got {name!r} "
            "(the folder goes in --out)."
        )
    if greedy and data is None:
        raise ValueError(
            "--greedy keeps a model only if it raises validation accuracy, so it needs --data "
            "(the folder holding fer2013/ the models were trained on)."
        )
    if precise_bn and data is None:
        raise ValueError(
            "--precise-bn recomputes BatchNorm statistics on the training images, so it needs "
            "--data (the folder holding fer2013/ the models were trained on)."
        )
    if len(paths) < 2 and not precise_bn:
        raise ValueError(
            f"A weight average needs at least 2 models; got {len(paths)}. Pass the runs to "
            "average, or add --precise-bn (and --data) to recompute one model's BatchNorm "
            "statistics."
        )
    start = time.perf_counter()
    cards = []
    for path in paths:
        card = zoo.load_card(path)
        if card is None:
            raise ValueError(
                f"{str(path)!r} has no model card (a .json beside the file, as `emolens train` "
                "writes), so its class set and validation split are unknown. Pass trained runs "
                "or bundled names."
            )
        cards.append(card)
    class_sets = {card["class_set"] for card in cards}
    if len(class_sets) > 1:
        raise ValueError(
            f"The models have different class sets ({', '.join(sorted(class_sets))}); "
            "average only models of one class set."
        )
    split = split_text(val_fraction, seed)
    for path, card in zip(paths, cards, strict=True):
        if data is not None and not str(card.get("split", "")).startswith(split):
            raise ValueError(
                f"{str(path)!r} was validated on {card.get('split')!r}, not on '{split}'. "
                "Pass its --val-fraction and --seed, so that the soup's validation images "
                "were held out from every ingredient."
            )
    class_set = class_sets.pop()
    models = [zoo.load(path) for path in paths]
    if len(models) > 1:
        _check_compatible(models)
    validation = test = None
    notes = ""
    n_train = n_val = 0
    steps = [{"index": i, "kept": True} for i in range(len(models))]
    if data is None:
        soup = average_weights(models)
    else:
        full = load_dataset(data, "train", class_set, clean=True, seed=seed)
        cfg = TrainConfig(classes=class_set, data=data, val_fraction=val_fraction, seed=seed)
        train_rows, val_rows = _split(full, cfg)
        n_train, n_val = len(full) - len(val_rows), len(val_rows)
        val_images, val_labels = full.images[val_rows], full.labels[val_rows]
        train_images = full.images[train_rows]

        def finish(model: keras.Model) -> keras.Model:
            if not precise_bn:
                return model
            from emolens.models.precise_bn import precise_bn as recompute

            return recompute(model, train_images, batch_size=bn_batch_size, seed=seed)

        if greedy:
            soup, steps = greedy_average(
                models,
                lambda m: evaluate(m, val_images, val_labels, full.classes, tta)["accuracy"],
                finish=finish,
                on_step=progress
                and (
                    lambda step: progress(
                        f"  {'kept' if step['kept'] else 'dropped'} {cards[step['index']]['name']}"
                        f": alone {step['alone']:.4f}, soup {step['score']:.4f}"
                    )
                ),
            )
        else:
            soup = finish(average_weights(models) if len(models) > 1 else models[0])
        validation = evaluate(soup, val_images, val_labels, full.classes, tta)
        if test_split:
            try:
                test_set = load_dataset(data, test_split, class_set, seed=seed)
                test = evaluate(soup, test_set.images, test_set.labels, full.classes, tta)
            except FileNotFoundError as error:
                notes = f"Test split not available ({error}). "
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / f"{name}.keras"
    _atomic_save(soup.save, model_path)
    by_index = {step["index"]: step for step in steps}
    kept = [card["name"] for i, card in enumerate(cards) if by_index[i]["kept"]]
    how = (
        f"{cards[0]['name']}'s weights, "
        if len(cards) == 1
        else f"greedy weight average (ranked by validation accuracy; each kept only if the "
        f"average's validation accuracy did not fall): {len(kept)} of {len(cards)} models "
        f"kept ({', '.join(kept)}), "
        if greedy
        else f"uniform average of the weights of {len(cards)} models ({', '.join(kept)}), "
    )
    card = {
        "name": name,
        "arch": f"{cards[0]['arch'].split(' (')[0]} ("
        + (f"weight average of {', '.join(kept)}" if len(cards) > 1 else cards[0]["name"])
        + (", PreciseBN statistics)" if precise_bn else ")"),
        "class_set": class_set,
        "classes": list(cards[0]["classes"]),
        "input_shape": list(cards[0]["input_shape"]),
        "data": cards[0]["data"] if data is None else data_text(str(data), clean=True),
        "split": f"{split}: {n_train} train / {n_val} val" if data is not None else "",
        "test_split": test_split,
        "training": how
        + (
            f"BatchNorm statistics recomputed on the {n_train} training images (PreciseBN: "
            f"mean of the batch statistics, batches of {bn_batch_size}, no augmentation)"
            if precise_bn
            else "BatchNorm statistics included"
        )
        + "; no training"
        + (f", TTA flip {tta}" if data is not None else ""),
        "validation": validation,
        "test": test,
        "params": int(soup.count_params()),
        "size_bytes": model_path.stat().st_size,
        "training_time_s": time.perf_counter() - start,
        "latency_ms_cpu": latency_ms(soup, tuple(cards[0]["input_shape"])) if data else None,
        "device": _device(),
        "backend": keras.backend.backend(),
        "command": " ".join(
            ["emolens", "soup", "--models", ",".join(str(p) for p in paths)]
            + ["--out", str(out), "--name", name]
            + (["--data", str(data)] if data is not None else [])
            + (["--test-split", str(test_split)] if test_split != "publictest" else [])
            + (["--val-fraction", f"{val_fraction:g}"] if val_fraction != 0.1 else [])
            + (["--seed", str(seed)] if seed else [])
            + ([] if tta else ["--no-tta"])
            + (["--greedy"] if greedy else [])
            + (["--precise-bn"] if precise_bn else [])
            + (
                ["--bn-batch-size", str(bn_batch_size)]
                if precise_bn and bn_batch_size != 128
                else []
            )
        ),
        "date": date.today().isoformat(),
        "history": [],
        "ingredients": [
            {
                "name": ingredient["name"],
                "path": str(path),
                "validation_accuracy": (ingredient.get("validation") or {}).get("accuracy"),
                "test_accuracy": (ingredient.get("test") or {}).get("accuracy"),
                **{k: v for k, v in by_index[i].items() if k != "index"},
            }
            for i, (path, ingredient) in enumerate(zip(paths, cards, strict=True))
        ],
        "notes": notes,
    }
    write_card(out / name, card)
    return card
