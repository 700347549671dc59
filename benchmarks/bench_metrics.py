"""Speed of explain.metrics vs naive per-image loops, measured in one run.

    python benchmarks/bench_metrics.py                      # 256 faces, default model, Grad-CAM
    python benchmarks/bench_metrics.py --n 64 --steps 32 --naive-n 4 --sanity-n 32

Deletion/insertion AUC of Grad-CAM maps on synthetic faces with the default bundled model.
Naive: per image, per step, one eager model call on the perturbed image (the obvious loop;
same pixel order, baseline and logit score), timed on --naive-n faces; faces/s is the
rate. Floor: compiled forward passes alone over as many images as --floor-n faces need
(faces * (steps + 1)), batched the same way. All are timed in interleaved rounds so a
busy machine slows them alike; batched and naive AUCs are compared on the shared faces.
Sanity check: cascading randomisation of every layer with a kernel on --sanity-n faces;
its floor is the Grad-CAM calls it must make (one per randomised layer plus the
original), timed in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from emolens import explain, models
from emolens.explain._layers import logits_model
from emolens.explain.metrics import (
    deletion_auc,
    insertion_auc,
    model_randomisation,
    randomisable_layers,
)
from emolens.explain.metrics._baselines import baseline_images

try:  # the data code moved into explain/data/
    from emolens.explain.data.synthetic import faces
except ImportError:  # pragma: no cover
    from emolens.explain.synthetic import faces

BASELINES = {"deletion": "black", "insertion": "blur"}  # the library defaults


def naive_auc(model, images, maps, targets, steps, insert):
    """Per image, per step, one eager call of the logits model: (n,) AUCs."""
    head = logits_model(model)
    fills = baseline_images(images, BASELINES["insertion" if insert else "deletion"], "naive")
    aucs = []
    for image, relevance, fill, target in zip(images, maps, fills, targets, strict=True):
        order = np.argsort(-relevance.ravel(), kind="stable")
        start, end = (fill, image) if insert else (image, fill)
        scores = []
        for s in range(steps + 1):
            current = start.copy().reshape(-1, image.shape[-1])
            moved = order[: round(s * relevance.size / steps)]
            current[moved] = end.reshape(-1, image.shape[-1])[moved]
            logits = head(current.reshape(image.shape)[None], training=False)
            scores.append(float(logits[0, target]))
        aucs.append(np.trapezoid(scores, dx=1 / steps))
    return np.asarray(aucs)


def interleaved(fns: dict, repeats: int) -> dict:
    """Median seconds of each fn() (already warmed up), in interleaved rounds, and results."""
    times, results = {name: [] for name in fns}, {}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}, results


def faithfulness(model, images, maps, targets, args):
    few = slice(0, args.naive_n)
    fns = {}
    for kind, function in (("deletion", deletion_auc), ("insertion", insertion_auc)):
        insert = kind == "insertion"
        function(model, images[:2], maps[:2], targets[:2], steps=args.steps)  # trace
        naive_auc(model, images[:1], maps[:1], targets[:1], 1, insert)
        fns[f"naive {kind}"] = lambda insert=insert: naive_auc(
            model, images[few], maps[few], targets[few], args.steps, insert
        )
        fns[kind] = lambda function=function: function(
            model, images, maps, targets, steps=args.steps, batch_size=args.batch_size
        )
    few_images = np.repeat(images[: args.floor_n], args.steps + 1, axis=0)  # as many forwards
    forward = tf.function(lambda x: logits_model(model)(x, training=False), reduce_retracing=True)

    def floor():
        for rows in range(0, len(few_images), args.batch_size):
            forward(tf.constant(few_images[rows : rows + args.batch_size])).numpy()

    floor()  # trace
    fns["floor"] = floor
    seconds, results = interleaved(fns, args.repeats)
    header = f"{'metric':<22}{'faces':>6}{'forwards':>10}{'s':>9}{'faces/s':>10}"
    lines = [header + f"{'vs naive':>10}{'vs floor':>10}"]
    floor_rate = args.floor_n / seconds["floor"]
    lines.append(
        f"{'forward floor':<22}{args.floor_n:>6}{args.floor_n * (args.steps + 1):>10}"
        f"{seconds['floor']:>9.1f}{floor_rate:>10.2f}{'':>10}{1:>9.2f}x"
    )
    for kind in ("deletion", "insertion"):
        naive = f"naive {kind}"
        naive_rate = args.naive_n / seconds[naive]
        rate = len(images) / seconds[kind]
        diff = np.abs(results[kind][few] - results[naive]).max()
        for name, count in ((naive, args.naive_n), (kind, len(images))):
            speed = count / seconds[name]
            lines.append(
                f"{name + ' auc':<22}{count:>6}{count * (args.steps + 1):>10}"
                f"{seconds[name]:>9.1f}{speed:>10.2f}{speed / naive_rate:>9.1f}x"
                f"{speed / floor_rate:>9.2f}x"
            )
        met = "met" if rate / naive_rate >= 10 else "MISSED"
        lines.append(f"  {kind}: target >= 10x naive: {met}; max |AUC - naive AUC| = {diff:.1e}")
    return lines


def sanity(model, images, args):
    layers = randomisable_layers(model)
    explain.grad_cam(model, images[:2])  # trace on the original model

    def floor():
        for _ in range(len(layers) + 1):
            explain.grad_cam(model, images)

    start = time.perf_counter()
    result = model_randomisation(model, images, "grad_cam", seed=0)
    total = time.perf_counter() - start
    seconds, _ = interleaved({"floor": floor}, 1)
    met = "met" if total < 60 else "MISSED"
    rho = " ".join(f"{v:+.2f}" for v in result.spearman.mean(axis=1))
    return [
        f"model_randomisation grad_cam: {len(images)} faces, {len(layers)} layers "
        f"({layers[0]} ... {layers[-1]}): {total:.1f} s (target < 60 s: {met}); floor "
        f"({len(layers) + 1} grad_cam calls): {seconds['floor']:.1f} s = "
        f"{seconds['floor'] / total:.2f}x of it",
        f"  mean Spearman per layer, top first: {rho}",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="faces for the batched metrics")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--naive-n", type=int, default=8, help="faces for the naive loop")
    parser.add_argument("--sanity-n", type=int, default=64)
    parser.add_argument("--floor-n", type=int, default=32, help="faces for the forward floor")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--model", default=None, help="bundled name or path; default model")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    name = args.model or models.default_model()
    model = models.load(name)
    images = faces(args.n, seed=0).images
    maps = explain.grad_cam(model, images)
    targets = np.argmax(np.asarray(logits_model(model)(images, training=False)), axis=1)
    gpus = tf.config.list_physical_devices("GPU")
    print(
        f"tf {tf.__version__} | keras {keras.__version__} | GPU: {'yes' if gpus else 'none (CPU)'}"
        f" | model={name} | {images.shape[1]}x{images.shape[2]}"
        f" | steps={args.steps} | batch {args.batch_size} | Grad-CAM maps, logit score"
    )
    for line in faithfulness(model, images, maps, targets, args):
        print(line, flush=True)
    for line in sanity(model, images[: args.sanity_n], args):
        print(line, flush=True)


if __name__ == "__main__":
    main()
