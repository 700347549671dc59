"""The ground-truth benchmark: which methods find the deciding part, and the shortcut mark."""

from __future__ import annotations

import math
from collections.abc import Mapping

import keras

from emolens.explain.metrics.benchmark import accuracy, faithfulness, localisation, run_methods
from emolens.explain.metrics.groundtruth import add_mark, deciding_faces, part_region

COLUMNS: tuple[str, ...] = (
    "method",
    "part_mass",
    "part_pointing",
    "part_mass_shortcut",
    "mark_mass_shortcut",
    "mark_mass_clean",
    "mark_pointing_shortcut",
    "deletion_auc",
    "insertion_auc",
    "ms_per_face",
    "skipped",
)
"""Columns of `ground_truth_benchmark`'s rows (masses in [0, 1], AUCs in logits)."""


def ground_truth_benchmark(
    clean_model: keras.Model,
    shortcut_model: keras.Model,
    n: int = 30,
    *,
    seed: int = 12,
    part: str = "mouth",
    margin: int = 4,
    methods: Mapping[str, object] | None = None,
    options: Mapping[str, dict] | None = None,
    steps: int = 16,
) -> tuple[list[dict], dict]:
    """Score every method on faces whose deciding part, and spurious mark, are known.

    `clean_model` was trained on `deciding_faces(part=part)`, `shortcut_model` on the same
    faces with `add_mark`'s label-coded corner mark. On `n` new faces (seed `seed`), each
    method explains the true class:

    - part_mass / part_pointing: `clean_model` on clean faces, relevance mass and pointing
      game on the deciding part grown by `margin` pixels (`part_region`; a random map's
      mass is the region's area, `summary["part_area"]`, about 7% for the mouth);
    - part_mass_shortcut, mark_mass_shortcut / mark_pointing_shortcut: `shortcut_model` on
      marked faces, mass on the part region and on the mark's mask; mark_mass_clean:
      `clean_model` on the same marked faces (the mark does not decide its class, so this
      is the baseline; a high-contrast mark still draws some gradient mass);
    - deletion_auc / insertion_auc: `clean_model`, clean faces, logit score, `steps` steps;
    - ms_per_face: time of the clean-model maps; skipped: why a method does not apply.

    Args:
        clean_model: Keras classifier trained on the faces without the mark.
        shortcut_model: Keras classifier trained on the marked faces.
        n: faces per measurement.
        seed: seed of the faces (keep it apart from the training seeds).
        part: the deciding part: "brows", "eyes" or "mouth".
        margin: pixels the part's mask is grown by (0: the drawn stroke only).
        methods: name -> explainer; default `explain.METHODS`.
        options: name -> keyword options; default `benchmark.FAST_OPTIONS`.
        steps: deletion/insertion steps.

    Returns:
        (rows: one dict per method with `COLUMNS`, NaN where skipped;
        summary: n, the part region's and the mark's area fractions (chance masses), and
        the accuracies of both models on clean and marked faces).
    """
    if methods is None:
        from emolens.explain import METHODS as methods  # explain/__init__ imports metrics
    faces = deciding_faces(n, seed=seed, part=part)
    marked, mark = add_mark(faces.images, faces.labels)
    targets, truth = faces.labels.astype("int32"), part_region(faces.masks[part], margin)
    clean = run_methods(clean_model, faces.images, targets, methods, options)
    shortcut = run_methods(shortcut_model, marked, targets, methods, options)
    clean_marked = run_methods(clean_model, marked, targets, methods, options)
    rows = []
    for name in methods:
        maps, seconds, reason = clean[name]
        row = dict.fromkeys(COLUMNS, math.nan) | {"method": name, "skipped": reason}
        if maps is not None:
            row["part_mass"], row["part_pointing"] = localisation(maps, truth)
            row["deletion_auc"], row["insertion_auc"] = faithfulness(
                clean_model, faces.images, maps, targets, steps
            )
            row["ms_per_face"] = 1000 * seconds
        if shortcut[name][0] is not None:
            mass, hits = localisation(shortcut[name][0], mark)
            row["mark_mass_shortcut"], row["mark_pointing_shortcut"] = mass, hits
            row["part_mass_shortcut"] = localisation(shortcut[name][0], truth)[0]
        if clean_marked[name][0] is not None:
            row["mark_mass_clean"] = localisation(clean_marked[name][0], mark)[0]
        rows.append(row)
    summary = {
        "n": int(n),
        "part_area": float(truth.mean()),
        "mark_area": float(mark.mean()),
        "clean_model_on_clean": accuracy(clean_model, faces.images, faces.labels),
        "clean_model_on_marked": accuracy(clean_model, marked, faces.labels),
        "shortcut_model_on_clean": accuracy(shortcut_model, faces.images, faces.labels),
        "shortcut_model_on_marked": accuracy(shortcut_model, marked, faces.labels),
    }
    return rows, summary
