"""onnxruntime vs Keras for a bundled model: prediction alone, and prediction + Grad-CAM.

    python benchmarks/bench_onnx.py                       # default model, batch 1 and 32
    python benchmarks/bench_onnx.py --model vgg_fer7_soup_ft --batch-sizes 1,32,128 --repeats 30

Baseline: Keras on TensorFlow, compiled (explain.report.predict_probs: a traced call, not
model.predict; explain.grad_cam: one compiled forward+backward per batch) plus, for
"predict + Grad-CAM", the probabilities from the same predict_probs call. onnxruntime runs
the `emolens export` graphs (CPU provider, default threads): "probs" for prediction, and the
--with-cam graph (probabilities and maps from one run) for prediction + Grad-CAM. Every
callable is warmed up, then timed in interleaved rounds (median ms per batch).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import onnxruntime
import tensorflow as tf

from emolens import explain, models
from emolens.explain.report import predict_probs
from emolens.models.export import OPSET, export_onnx


def timed(fns: dict, repeats: int) -> dict:
    """Median seconds per call of each fn, after a warm-up, in interleaved rounds."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def callables(model, sessions: dict, images: np.ndarray, targets: np.ndarray) -> dict:
    """The four timed calls for one batch: Keras and onnxruntime, with and without Grad-CAM."""
    return {
        "keras predict": lambda: predict_probs(model, images),
        "onnx predict": lambda: sessions["plain"].run(["probs"], {"images": images}),
        "keras predict+cam": lambda: (
            predict_probs(model, images),
            explain.grad_cam(model, images),
        ),
        "onnx predict+cam": lambda: sessions["cam"].run(
            ["probs", "cam"], {"images": images, "targets": targets}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="bundled name (default: default model)")
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    name = args.model or models.default_model()
    model = models.load(name)
    shape = tuple(model.inputs[0].shape[1:])
    with tempfile.TemporaryDirectory() as folder:
        plain, cam = Path(folder) / "plain.onnx", Path(folder) / "cam.onnx"
        export_onnx(model, plain, name=name)
        export_onnx(model, cam, with_cam=True, name=name)
        options = onnxruntime.SessionOptions()
        sessions = {
            path.stem: onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
            for path in (plain, cam)
        }
    print(
        f"tf {tf.__version__} | keras {keras.__version__} | onnxruntime {onnxruntime.__version__} "
        f"| opset {OPSET} | {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs "
        f"(shared with other jobs) | model={name} {shape}"
    )
    print(
        f"{'task':<22}{'batch':>6}{'keras ms':>11}{'onnx ms':>10}{'onnx img/s':>12}{'speed-up':>10}"
    )
    rng = np.random.default_rng(0)
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        images = rng.random((batch, *shape), dtype=np.float32)
        targets = np.full((batch,), -1, np.int32)
        fns = callables(model, sessions, images, targets)
        seconds = timed(fns, args.repeats)
        for task in ("predict", "predict+cam"):
            ours, base = seconds[f"onnx {task}"], seconds[f"keras {task}"]
            print(
                f"{task:<22}{batch:>6}{base * 1e3:>11.2f}{ours * 1e3:>10.2f}"
                f"{batch / ours:>12.0f}{base / ours:>9.2f}x"
            )


if __name__ == "__main__":
    main()
