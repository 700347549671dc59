"""Explanation metrics on real faces: FER2013 PublicTest, per bundled model and method.

Table 1 (per model x method, --n faces; each a mean with a 95% bootstrap interval over
faces): deletion/insertion AUC (logit score) and two sanity scores, the Spearman rank
correlation between the map and (a) the map after the logits layer is re-initialised, (b) the
map of a random other class (lower = the map depends on what the model learnt / on the
class). Methods that do not apply are listed with the reason.

Table 2 (per model x method x emotion, --n-regions faces): share of the map's mass in the
brow band (rows 6-14), eye band (15-23) and mouth band (31-41) of the aligned 48x48 faces,
the mean over faces of that emotion with a 95% bootstrap interval (1000 resamples). Maps
explain each face's true class.

    python benchmarks/real_faces.py --n 24 --n-regions 300 --out benchmarks/results/real_faces

Skips (exit 0, reason printed) when ../shared/data/fer2013 is absent.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

BANDS = {"brow": slice(6, 15), "eye": slice(15, 24), "mouth": slice(31, 42)}
CHEAP = (
    "grad_cam", "grad_cam_pp", "hires_cam", "xgrad_cam", "layer_cam", "eigen_cam",
    "saliency", "smoothgrad", "integrated_gradients", "guided_grad_cam", "occlusion",
    "attention_map", "attention_rollout", "attention_relevance",
)  # fmt: skip
OPTIONS = {
    "smoothgrad": {"n_samples": 16},
    "integrated_gradients": {"steps": 16},
    "occlusion": {"patch": 8, "stride": 8},
    "rise": {"n_masks": 300, "cells": 6},
}


def band_mass(maps: np.ndarray) -> dict[str, np.ndarray]:
    """Share of each (N, 48, 48) map's total in each band: band -> (N,)."""
    total = np.maximum(maps.sum(axis=(1, 2)), 1e-12)
    return {band: maps[:, rows].sum(axis=(1, 2)) / total for band, rows in BANDS.items()}


def bootstrap(values: np.ndarray, rng: np.random.Generator, repeats: int = 1000):
    """Mean and 95% percentile-bootstrap interval of `values` (n,)."""
    means = values[rng.integers(0, len(values), (repeats, len(values)))].mean(axis=1)
    return float(values.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def _interval(values: np.ndarray, rng: np.random.Generator) -> str:
    """'mean [low, high]' with a 95% bootstrap interval over faces (NaNs dropped)."""
    values = values[np.isfinite(values)]
    if not len(values):
        return "n/a"
    mean, low, high = bootstrap(values, rng)
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def faithfulness_rows(model_name, model, images, methods, steps):
    from emolens.explain import metrics
    from emolens.explain.metrics.benchmark import run_methods

    rng = np.random.default_rng(0)
    targets = np.argmax(model.predict(images, verbose=0), axis=1).astype(np.int32)
    top = metrics.randomisable_layers(model)[:1]
    rows = []
    for name, (maps, seconds, reason) in run_methods(
        model, images, targets, methods, OPTIONS
    ).items():
        row = {"model": model_name, "method": name, "deletion_auc": "n/a",
               "insertion_auc": "n/a", "sanity_logits_spearman": "n/a",
               "random_logit_spearman": "n/a", "ms_per_face": 1000 * seconds,
               "skipped": reason}  # fmt: skip
        if maps is not None:
            deletion = metrics.deletion_auc(model, images, maps, targets, steps=steps)
            insertion = metrics.insertion_auc(model, images, maps, targets, steps=steps)
            row["deletion_auc"] = _interval(deletion, rng)
            row["insertion_auc"] = _interval(insertion, rng)
            opts = OPTIONS.get(name, {})
            check = metrics.model_randomisation(
                model, images, methods[name], targets, layers=top, **opts
            )
            row["sanity_logits_spearman"] = _interval(np.asarray(check.spearman[-1]), rng)
            logit = metrics.random_logit(model, images, methods[name], targets, **opts)
            row["random_logit_spearman"] = _interval(np.asarray(logit.spearman), rng)
        rows.append(row)
    return rows


def region_rows(model_name, model, images, labels, classes, methods):
    from emolens.explain.metrics.benchmark import run_methods

    rng = np.random.default_rng(0)
    rows = []
    for name, (maps, _, _) in run_methods(
        model, images, labels.astype(np.int32), methods, OPTIONS
    ).items():
        if maps is None:
            continue
        shares = band_mass(maps)
        for k, emotion in enumerate(classes):
            chosen = labels == k
            row = {"model": model_name, "method": name, "emotion": emotion, "n": int(chosen.sum())}
            for band, values in shares.items():
                mean, low, high = bootstrap(values[chosen], rng)
                row[band] = f"{mean:.2f} [{low:.2f}, {high:.2f}]"
            row["top"] = max(shares, key=lambda b: shares[b][chosen].mean())
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data"))
    # the default CNN and the bundled ViT
    parser.add_argument("--models", default="vgg_emo3_soup,vit_hybrid_emo3_pbn")
    parser.add_argument("--methods", default=",".join(CHEAP))
    parser.add_argument("--region-methods", default="grad_cam,saliency,attention_relevance")
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--n-regions", type=int, default=300)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if not (Path(args.data) / "fer2013").is_dir():
        print(f"skipped: no FER2013 under {args.data} (run `emolens data download` first)")
        return
    import keras
    import tensorflow as tf

    from emolens import explain, models
    from emolens.explain._atomic import atomic_write_text
    from emolens.explain.data.load import load_dataset
    from emolens.explain.metrics.benchmark import markdown_table

    keras.utils.set_random_seed(0)
    start = time.perf_counter()
    pick = lambda names: {m: explain.METHODS[m] for m in names.split(",")}  # noqa: E731
    faith, regions = [], []
    for name in args.models.split(","):
        model = models.load(name)
        data = load_dataset(args.data, "publictest", "emo3", limit=args.n_regions, seed=0)
        images = data.images.astype(np.float32)
        faith += faithfulness_rows(name, model, images[: args.n], pick(args.methods), args.steps)
        regions += region_rows(
            name, model, images, data.labels, data.classes, pick(args.region_methods)
        )
    header = (
        f"tf {tf.__version__} | keras {keras.__version__} | FER2013 PublicTest (emo3), seeded "
        f"subset: {args.n} faces for table 1, {args.n_regions} for table 2 | steps {args.steps} | "
        f"{time.perf_counter() - start:.0f} s\n\n"
    )
    text = header + markdown_table(faith) + "\n\n" + markdown_table(regions)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(f"{args.out}.md", text)


if __name__ == "__main__":
    main()
