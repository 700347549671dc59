"""`emolens explain` on 100 photos: faces/s and the time split, with plain predict as baseline.

    python benchmarks/bench_explain.py                        # 100 photos, default model
    python benchmarks/bench_explain.py --n 100 --method grad_cam,score_cam --repeats 3

The photos are variants of matplotlib's sample grace_hopper.jpg (scaled, flipped, shifted in
brightness, JPEG and PNG), so every one holds a face; a second run explains the built-in demo
faces written as 48x48 PNGs with detection off (--no-detect). Each run calls what the CLI
calls (explain_files, then write_report with every format) after one warm-up batch that
traces the compiled steps. Baselines on the same face crops, same batch size: the model's
compiled predict, and the method alone on in-memory crops.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import keras
import numpy as np
import tensorflow as tf
from matplotlib import cbook

from emolens import explain, models
from emolens.explain.data.synthetic import demo_faces
from emolens.explain.report import explain_files, write_report

REPORTS = {
    "report: png": "png",
    "report: html": "html",
    "report: pdf": "pdf",
    "report: json+csv": "json,csv",
}
STAGES = ("decode", "detect", "predict", "maps", *REPORTS)


def write_photos(folder: Path, n: int) -> None:
    """n variants of grace_hopper.jpg (512x600): scale 0.6-1.4, flips, brightness, jpg/png."""
    photo = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    rng = np.random.default_rng(0)
    for index in range(n):
        scale = rng.uniform(0.6, 1.4)
        variant = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        variant = variant[:, ::-1] if index % 2 else variant
        variant = np.clip(variant * rng.uniform(0.7, 1.2), 0, 255).astype(np.uint8)
        suffix = ".jpg" if index % 3 else ".png"
        cv2.imwrite(str(folder / f"photo_{index:03d}{suffix}"), variant)


def write_crops(folder: Path, n: int) -> None:
    """n pre-cropped 48x48 demo faces as PNGs (the 12 demo faces, cycled with seeds)."""
    index = 0
    for seed in range(n // 12 + 1):
        for face in demo_faces(seed).images:
            if index < n:
                cv2.imwrite(
                    str(folder / f"crop_{index:03d}.png"),
                    np.rint(face[..., 0] * 255).astype(np.uint8),
                )
                index += 1


def run_once(model, name, folder, out, methods, detect):
    """(seconds, result) of one explain_files + write_report (each format timed) over `folder`."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    result = explain_files(model, [folder], methods, detect=detect, model_name=name)
    for stage, formats in REPORTS.items():
        write_report(result, out, formats)
        result.timing_ms[stage] = result.timing_ms.pop("report")
    return time.perf_counter() - started, result


def baselines(model, images, methods, repeats):
    """Median seconds of compiled predict and of each method on the crops, batch 32."""
    predict = tf.function(lambda batch: model(batch, training=False))
    fns = {"predict (compiled), same crops": lambda: [
        predict(tf.constant(images[i : i + 32])).numpy() for i in range(0, len(images), 32)
    ]}  # fmt: skip
    for method in methods:
        fns[f"{method} alone, same crops"] = lambda m=method: explain.METHODS[m](model, images)
    times = {}
    for label, fn in fns.items():
        fn()
        times[label] = statistics.median(_seconds(fn) for _ in range(repeats))
    return times


def _seconds(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def table(title, runs, base, faces):
    """Print the stage split (median over runs) and the baselines."""
    median = {s: statistics.median(r.timing_ms.get(s, 0.0) for _, r in runs) / 1e3 for s in STAGES}
    total = statistics.median(seconds for seconds, _ in runs)
    print(f"\n{title}: {faces} faces, median of {len(runs)} run(s)")
    print(f"{'stage':40s} {'s':>8s} {'ms/face':>9s} {'share':>7s}")
    for stage in STAGES:
        share = median[stage] / total
        print(f"{stage:40s} {median[stage]:8.2f} {1e3 * median[stage] / faces:9.1f} {share:7.1%}")
    print(f"{'emolens explain, total':40s} {total:8.2f} {1e3 * total / faces:9.1f}"
          f" {'':>7s}  {faces / total:6.1f} faces/s")  # fmt: skip
    for label, seconds in base.items():
        print(f"{'baseline: ' + label:40s} {seconds:8.2f} {1e3 * seconds / faces:9.1f}"
              f" {'':>7s}  {faces / seconds:6.1f} faces/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="photos (and crops) per run")
    parser.add_argument("--model", default=None, help="bundled name or file (default model)")
    parser.add_argument("--method", default="grad_cam")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    name = args.model or models.default_model()
    model = models.load(name)
    methods = args.method.split(",")
    devices = [d.name for d in tf.config.list_logical_devices("GPU")] or ["none (CPU)"]
    print(f"tf {tf.__version__} | keras {keras.__version__} | GPU: {', '.join(devices)} | "
          f"{platform.processor() or platform.machine()} | model={name} "
          f"{tuple(model.inputs[0].shape[1:])} | methods={args.method} | formats=all")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for kind, writer, detect in (("photos", write_photos, True), ("crops", write_crops, False)):
            folder = tmp / kind
            folder.mkdir()
            writer(folder, args.n)
            warm = tmp / f"{kind}_warm"
            warm.mkdir()
            for file in sorted(folder.iterdir())[:2]:
                shutil.copy(file, warm / file.name)
            run_once(model, name, warm, tmp / "out", methods, detect)  # traces the steps
            runs = [
                run_once(model, name, folder, tmp / "out", methods, detect)
                for _ in range(args.repeats)
            ]
            result = runs[-1][1]
            images = np.stack([face.image for face in result.faces])
            base = baselines(model, images, methods, max(args.repeats, 3))
            what = "photos with detection" if detect else "48x48 PNG crops, --no-detect"
            table(f"{args.n} {what}", runs, base, len(result.faces))


if __name__ == "__main__":
    main()
